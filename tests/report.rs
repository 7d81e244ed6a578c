//! `ecsim report`: one self-contained HTML page, checked in a real browser (headless Chromium).
//!
//! Without a browser the browser part is skipped with a message, except in CI (`CI` set), where
//! `.ci/run` installs Chromium and its absence is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("ecsim-report-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn ecsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecsim")).args(args).current_dir(dir).output().expect("run ecsim")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn browser() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// The page as the browser built it, or `None` (with a message) where no browser is installed
/// outside CI.
fn render(page: &Path) -> Option<String> {
    let Some(chromium) = browser() else {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but no Chromium is installed: .ci/run installs Debian's chromium package");
        }
        eprintln!(
            "skipped: no headless Chromium (/usr/bin/chromium) to render {}; `apt-get install chromium`",
            page.display()
        );
        return None;
    };
    let profile = page.with_extension("profile");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    // Read the DOM while the browser writes it (a full pipe would stall it).
    let mut stdout = child.stdout.take().expect("chromium stdout");
    let reader = std::thread::spawn(move || {
        let mut dom = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut dom);
        dom
    });
    let start = Instant::now();
    while child.try_wait().expect("wait for chromium").is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not render {} within 120 s", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let dom = reader.join().expect("read chromium's output");
    Some(String::from_utf8_lossy(&dom).into_owned())
}

/// No `src` or `href` that reaches the network; the only URL is SVG's namespace.
fn assert_self_contained(html: &str) {
    for attr in ["src=\"http", "href=\"http", "src='http", "href='http", "url(http", "@import"] {
        assert!(!html.contains(attr), "the report loads `{attr}…` from the network");
    }
    assert!(!html.contains("<script"), "the report needs no script");
}

#[test]
fn a_run_report_renders_with_its_summary_charts_and_timeline() {
    let tmp = TempDir::new("run");
    let scenario = scenarios().join("alb-dynamic-ports.toml");
    let o = ecsim(&["run", scenario.to_str().unwrap(), "--out", "q"], &tmp.0);
    assert!(o.status.success(), "{}", text(&o));
    let o = ecsim(&["report", "q", "--scenario", scenario.to_str().unwrap()], &tmp.0);
    assert!(o.status.success(), "{}", text(&o));
    let page = tmp.0.join("q/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html);
    assert!(html.contains("Six bridge-mode tasks with dynamic host ports"), "the description");
    assert!(html.contains("SLO: p99 ≤ 250 ms"));
    assert!(html.matches("<svg").count() >= 4, "inline charts");

    let Some(dom) = render(&page) else { return };
    assert!(dom.contains("<h1>ecsim run: alb-dynamic-ports</h1>"), "{}", &dom[..dom.len().min(500)]);
    assert!(dom.contains("<table id=\"summary\">"));
    assert!(dom.contains("<td class=\"l\">p99_ms</td>"));
    assert!(dom.contains("<table id=\"events\">"));
    assert!(dom.contains("target_registered"));
    assert!(dom.contains("Response time percentiles per minute"), "the latency chart's title");
}

#[test]
fn a_sweep_report_renders_with_the_best_plan() {
    let tmp = TempDir::new("sweep");
    std::fs::write(
        tmp.0.join("base.toml"),
        "name = \"b\"\nduration = \"5m\"\n[cluster]\navailability_zones = [\"a\"]\n[[cluster.auto_scaling_groups]]\nname = \"g\"\ninstance_type = \"t3.small\"\ndesired_capacity = 1\n[task_definitions.t]\ncpu = 512\nmemory = 512\n[[task_definitions.t.containers]]\nname = \"c\"\nimage = \"i\"\n[services.s]\ntask_definition = \"t\"\ndesired_count = 2\n",
    )
    .unwrap();
    std::fs::write(
        tmp.0.join("plan.toml"),
        "name = \"small\"\ndescription = \"Instances for two tasks\"\nbase = \"base.toml\"\nreplicates = 2\nminimize = \"cost_usd\"\nconstraints = [\"pending == 0\"]\n[[parameters]]\npath = \"cluster.auto_scaling_groups[0].desired_capacity\"\nvalues = [1, 2, 3]\n[[parameters]]\npath = \"cluster.auto_scaling_groups[0].instance_type\"\nvalues = [\"t3.small\", \"t3.medium\"]\n",
    )
    .unwrap();
    let o = ecsim(&["sweep", "plan.toml", "--out", "s", "--jobs", "2"], &tmp.0);
    assert!(o.status.success(), "{}", text(&o));
    let o = ecsim(&["report", "s"], &tmp.0);
    assert!(o.status.success(), "{}", text(&o));
    let page = tmp.0.join("s/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html);
    assert!(html.contains("<svg"));

    let Some(dom) = render(&page) else { return };
    assert!(dom.contains("<h1>ecsim sweep: small</h1>"));
    assert!(dom.contains("<table id=\"summary\">"));
    // A t3.small (2 vCPU, 2 GiB) holds both 512-CPU, 512-MiB tasks: the cheapest plan is one.
    assert!(dom.contains("<strong>desired_capacity = 1, instance_type = t3.small</strong>"), "{}", best_line(&dom));
    assert!(dom.contains("heatmap-cost_usd.svg"));
}

fn best_line(dom: &str) -> &str {
    dom.find("id=\"best\"").map_or("no best line", |i| &dom[i..(i + 400).min(dom.len())])
}

#[test]
fn a_folder_that_holds_no_result_is_bad_input() {
    let tmp = TempDir::new("empty");
    let o = ecsim(&["report", "."], &tmp.0);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("holds neither a run"), "{}", text(&o));
}
