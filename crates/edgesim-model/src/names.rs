//! Names that become directory names: a scenario's `name` (its report
//! goes to `reports/<name>/`) and each `[[variants]]` name (a directory of
//! a comparison). Each must be one safe path component, so that no
//! scenario can make edgesim write outside the report directory
//! (`../escaped`, `/tmp/x`) or into a hidden or special one (`.`, `..`).
//! `--out` is not checked: where a user sends a report is theirs to say.

/// Longest name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The rule, as error messages state it.
pub const NAME_RULE: &str =
    "letters, digits and - _ . + = @ only, not starting with '.', at most 100 characters";

/// Whether `c` may appear in a name.
fn allowed(c: char) -> bool {
    c.is_alphanumeric() || "-_.+=@".contains(c)
}

/// Checks that `name` is a safe single path component; the error says
/// what is wrong with it.
pub fn check(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("is longer than {MAX_NAME_CHARS} characters"));
    }
    if let Some(c) = name.chars().find(|&c| !allowed(c)) {
        let shown = edgesim_cache::input::excerpt(&c.to_string());
        return Err(format!("must not contain '{shown}'"));
    }
    if name.starts_with('.') {
        return Err("must not start with '.'".to_owned());
    }
    Ok(())
}

/// A safe name made from a file stem (the default scenario name): every
/// character outside the rule becomes `_`, a leading `.` too, and the
/// result is cut to [`MAX_NAME_CHARS`]; "scenario" when nothing is left.
pub fn from_stem(stem: &str) -> String {
    let mut name: String = stem
        .chars()
        .take(MAX_NAME_CHARS)
        .map(|c| if allowed(c) { c } else { '_' })
        .collect();
    if name.starts_with('.') {
        name.replace_range(..1, "_");
    }
    if name.is_empty() {
        "scenario".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn traversal_absolute_and_hidden_names_are_refused() {
        for bad in [
            "../escaped",
            "/tmp/x",
            "..",
            ".",
            ".hidden",
            "a/b",
            "a\\b",
            "",
            "a b",
            "x\u{1b}[31m",
            "nul\0",
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check("a\u{1b}").unwrap_err(), "must not contain '\\x1b'");
        for good in ["quickstart", "cache-sizes", "v1.2", "Überlast", "a+b=c@d"] {
            assert!(check(good).is_ok(), "{good:?}");
        }
        assert!(check(&"x".repeat(101)).is_err());
    }

    #[test]
    fn stems_are_made_safe() {
        assert_eq!(from_stem("..toml"), "_.toml");
        assert_eq!(from_stem("."), "_");
        assert_eq!(from_stem(""), "scenario");
        assert_eq!(from_stem("my scenario (2)"), "my_scenario__2_");
    }

    proptest! {
        #[test]
        fn made_safe_names_pass_the_check(stem in ".*") {
            prop_assert!(check(&from_stem(&stem)).is_ok());
        }

        #[test]
        fn accepted_names_are_one_normal_path_component(name in ".*") {
            if check(&name).is_ok() {
                let mut components = std::path::Path::new(&name).components();
                prop_assert!(matches!(components.next(), Some(std::path::Component::Normal(_))));
                prop_assert!(components.next().is_none());
            }
        }
    }
}
