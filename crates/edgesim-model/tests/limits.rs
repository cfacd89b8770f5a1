//! Every shipped scenario is within the default limits of
//! `edgesim_model::limits`, with room to spare.

use edgesim_model::{Scenario, limits};

#[test]
fn every_shipped_scenario_is_within_the_limits() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("scenarios/ exists") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let name = path.display().to_string();
        let text = edgesim_model::input::read_scenario(&path).unwrap();
        limits::precheck(&name, &text).unwrap();
        let s = Scenario::from_toml(&name, &text).unwrap();
        let e = limits::check(&name, &text, &s).unwrap_or_else(|d| panic!("{d}"));
        eprintln!("{name}: {e}");
        assert!(e.agent_bytes < limits::MAX_AGENT_BYTES / 4, "{name}: {e}");
        n += 1;
    }
    assert!(n >= 10);
}
