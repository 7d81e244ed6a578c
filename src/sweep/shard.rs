//! Splitting a sweep over machines: shard I of N takes the runs whose index is I modulo N, so
//! every shard gets a share of every part of the grid (cheap and expensive points alike).
//!
//! Under a batch engine's array job the shard comes from its environment, so one job script
//! serves every array member:
//!
//! | engine | index | count |
//! |---|---|---|
//! | Slurm job arrays | `SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` (÷ `SLURM_ARRAY_TASK_STEP`) | `SLURM_ARRAY_TASK_COUNT` |
//! | AWS Batch array jobs | `AWS_BATCH_JOB_ARRAY_INDEX` | `--shard-count` or `ECSIM_SHARD_COUNT` |
//! | Kubernetes Indexed Jobs | `JOB_COMPLETION_INDEX` | `--shard-count` or `ECSIM_SHARD_COUNT` |
//!
//! `--shard I/N` on the command line wins over the environment.

use std::fmt;

/// Shard `index` of `count` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The whole sweep.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    pub fn new(index: usize, count: usize) -> Result<Shard, String> {
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is out of range: shards of {count} are numbered 0 to {}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// Reads `I/N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("`{text}` is not a shard: write I/N, e.g. 0/4 for the first of four");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let i: usize = i.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        Shard::new(i, n)
    }

    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    pub fn contains(&self, run: usize) -> bool {
        run % self.count == self.index
    }

    /// The shard from a batch engine's environment, and the variable it came from; `None` when
    /// no engine's index is set. `env` looks a variable up (the real environment in the CLI).
    pub fn from_env(
        env: impl Fn(&str) -> Option<String>,
        count_flag: Option<usize>,
    ) -> Result<Option<(Shard, &'static str)>, String> {
        let num = |name: &str| -> Result<Option<usize>, String> {
            match env(name) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Ok(None),
                Some(v) => v.trim().parse().map(Some).map_err(|_| format!("{name}={v} is not a non-negative integer")),
            }
        };
        let count_from = |engine: &str| -> Result<usize, String> {
            count_flag.or(num("ECSIM_SHARD_COUNT")?).ok_or_else(|| {
                format!("{engine} is set but the number of shards is not: give it with --shard-count N (or ECSIM_SHARD_COUNT)")
            })
        };
        if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let step = num("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
            let count = match num("SLURM_ARRAY_TASK_COUNT")? {
                Some(c) => c,
                None => count_from("SLURM_ARRAY_TASK_ID")?,
            };
            let offset = id
                .checked_sub(min)
                .ok_or_else(|| format!("SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"))?;
            return Shard::new(offset / step, count).map(|s| Some((s, "SLURM_ARRAY_TASK_ID")));
        }
        for name in ["AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX"] {
            if let Some(i) = num(name)? {
                return Shard::new(i, count_from(name)?).map(|s| Some((s, name)));
            }
        }
        Ok(None)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn shards_parse_and_split_runs_disjointly() {
        assert_eq!(Shard::parse("1/3").unwrap(), Shard { index: 1, count: 3 });
        assert!(Shard::parse("3/3").unwrap_err().contains("out of range"));
        assert!(Shard::parse("1of3").is_err());
        assert!(Shard::parse("0/0").is_err());
        let shards: Vec<Shard> = (0..3).map(|i| Shard::new(i, 3).unwrap()).collect();
        for run in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.contains(run)).count(), 1);
        }
    }

    #[test]
    fn batch_engines_name_the_shard() {
        let s = Shard::from_env(env(&[("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "3")]), None);
        assert_eq!(s.unwrap(), Some((Shard { index: 1, count: 3 }, "SLURM_ARRAY_TASK_ID")));
        // `--array=1-4`: ids 1..4, min 1.
        let vars = [("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "4")];
        assert_eq!(Shard::from_env(env(&vars), None).unwrap().unwrap().0, Shard { index: 3, count: 4 });
        // `--array=0-6:2`: ids 0, 2, 4, 6.
        let vars = [("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_STEP", "2"), ("SLURM_ARRAY_TASK_COUNT", "4")];
        assert_eq!(Shard::from_env(env(&vars), None).unwrap().unwrap().0, Shard { index: 2, count: 4 });
        let s = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "2")]), Some(4)).unwrap().unwrap();
        assert_eq!(s, (Shard { index: 2, count: 4 }, "JOB_COMPLETION_INDEX"));
        let vars = [("AWS_BATCH_JOB_ARRAY_INDEX", "0"), ("ECSIM_SHARD_COUNT", "2")];
        assert_eq!(Shard::from_env(env(&vars), None).unwrap().unwrap().0, Shard { index: 0, count: 2 });
        assert!(Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "2")]), None).unwrap_err().contains("--shard-count"));
        assert!(Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "x")]), Some(2)).is_err());
        assert_eq!(Shard::from_env(env(&[]), Some(3)).unwrap(), None);
    }
}
