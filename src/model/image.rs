//! Container images and how long a task waits for them: the pull, then the container start.

use crate::engine::{Distribution, SimRng, SimTime};

/// Manifest round trip before any pull, and all a pull costs when the layers are cached:
/// about 0.2 s [assume] (AWS-SEMANTICS.md §10, pull-time model).
pub const MANIFEST_CHECK_MS: f64 = 200.0;

/// Download bandwidth of an uncached pull, MB/s, drawn per pull: 50–100 MB/s [assume]
/// (AWS-SEMANTICS.md §10; "large images can take 10–20 s", ECS-BP:pull-behavior.md).
pub const PULL_BANDWIDTH_MBPS: (f64, f64) = (50.0, 100.0);

/// Layer extraction speed, MB/s [assume] (AWS-SEMANTICS.md §10).
pub const EXTRACT_MBPS: f64 = 100.0;

#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    pub name: String,
    /// Compressed size, MB.
    pub size_mb: f64,
    /// An explicit pull-time distribution (ms) replacing the size-based model.
    pub pull_time: Option<Distribution>,
    /// From pulled image to a running container (create and start), ms.
    pub start_time: Distribution,
    /// Where it is pulled from: private ECR needs a role allowed to pull.
    pub registry: super::iam::Registry,
}

impl Image {
    /// Time to make the image available on an instance.
    ///
    /// With the agent's default `ECS_IMAGE_PULL_BEHAVIOR=default` the agent always asks the
    /// registry, but an image already on the instance costs only the manifest check. An
    /// uncached pull costs the manifest check, the download at a bandwidth drawn per pull and the
    /// extraction (AWS-SEMANTICS.md §10).
    pub fn pull_duration(&self, cached: bool, rng: &mut SimRng) -> SimTime {
        if cached {
            return MANIFEST_CHECK_MS as SimTime;
        }
        if let Some(d) = &self.pull_time {
            return d.sample_duration(rng);
        }
        let (lo, hi) = PULL_BANDWIDTH_MBPS;
        let bandwidth = Distribution::Uniform { min: lo, max: hi }.sample(rng);
        let seconds = self.size_mb / bandwidth + self.size_mb / EXTRACT_MBPS;
        (MANIFEST_CHECK_MS + seconds * 1000.0).round() as SimTime
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    fn image(size_mb: f64) -> Image {
        Image {
            name: "app".into(),
            size_mb,
            pull_time: None,
            start_time: Distribution::Fixed(1000.0),
            registry: crate::model::iam::Registry::Public,
        }
    }

    #[test]
    fn cached_pull_is_a_manifest_check() {
        let mut rng = RngStreams::new(1).stream("pull");
        assert_eq!(image(500.0).pull_duration(true, &mut rng), 200);
    }

    #[test]
    fn uncached_pull_time_follows_size_and_bandwidth_bounds() {
        // 500 MB: download 5–10 s, extraction 5 s, manifest 0.2 s → 10.2–15.2 s.
        let mut rng = RngStreams::new(1).stream("pull");
        for _ in 0..1000 {
            let t = image(500.0).pull_duration(false, &mut rng);
            assert!((10_200..=15_200).contains(&t), "{t}");
        }
    }
}
