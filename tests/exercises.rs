//! Every exercise in `scenarios/exercises/` starts wrong and can be solved: as shipped, at least
//! one of its expectations fails; with the `--set` overrides of its `[solution]` table applied,
//! all of them hold. The header states the goal without giving the answer away.

use std::path::{Path, PathBuf};

use ecsim::{Scenario, simulate};

fn exercises() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/exercises");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/exercises/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// The whys of the expectations that do not hold.
fn failing(scenario: &Scenario) -> Vec<String> {
    let r = simulate(scenario);
    scenario
        .expectations
        .iter()
        .map(|e| e.evaluate(&r))
        .filter(|o| !o.holds)
        .map(|o| format!("{}: {}", o.why, o.report))
        .collect()
}

#[test]
fn there_are_at_least_four_exercises() {
    assert!(exercises().len() >= 4, "{:?}", exercises());
}

#[test]
fn every_exercise_fails_as_shipped_and_passes_with_its_solution() {
    std::thread::scope(|scope| {
        for file in exercises() {
            scope.spawn(move || shipped_fails_and_solution_passes(&file));
        }
    });
}

fn shipped_fails_and_solution_passes(file: &Path) {
    let shipped = Scenario::from_path(file, &[]).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(!shipped.solution.is_empty(), "{}: an exercise needs a [solution] table", file.display());
    assert!(!shipped.expectations.is_empty(), "{}: an exercise needs expectations", file.display());
    assert!(!failing(&shipped).is_empty(), "{}: passes as shipped", file.display());
    let solved = Scenario::from_path(file, &shipped.solution)
        .unwrap_or_else(|e| panic!("{}: the solution does not apply: {e}", file.display()));
    let left = failing(&solved);
    assert!(
        left.is_empty(),
        "{}: still fails with its solution {:?}:\n{}",
        file.display(),
        shipped.solution,
        left.join("\n")
    );
}

#[test]
fn the_header_states_the_goal_without_the_answer() {
    for file in exercises() {
        let text = std::fs::read_to_string(&file).unwrap();
        let header: String = text.lines().take_while(|l| l.starts_with('#')).collect::<Vec<_>>().join("\n");
        assert!(header.contains("goal"), "{}: the header should state the goal", file.display());
        assert!(header.contains("ecsim check"), "{}: the header should say how to check an answer", file.display());
        let solution = Scenario::from_path(&file, &[]).unwrap().solution;
        for set in &solution {
            let (path, value) = set.split_once('=').unwrap();
            let key = path.rsplit('.').next().unwrap();
            assert!(
                !header.contains(set.as_str()) && !header.contains(&format!("{key} = {value}")),
                "{}: the header gives the answer away ({set})",
                file.display()
            );
        }
    }
}
