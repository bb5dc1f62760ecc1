//! The official openai Python SDK lists the mock's catalogue: `client.models.list()` with
//! `base_url=<mock>/v1`.
//!
//! The interpreter is `$AIMLAPI_TEST_PYTHON` (default `python3`). Without it, or without the
//! `openai` package, the test says SKIP loudly and passes, unless `OPENAI_PYTHON_REQUIRED=1`,
//! when it fails. Locally:
//!
//! ```text
//! python3 -m venv /tmp/pyenv-openai && /tmp/pyenv-openai/bin/pip install openai==2.54.0
//! AIMLAPI_TEST_PYTHON=/tmp/pyenv-openai/bin/python OPENAI_PYTHON_REQUIRED=1 \
//!     cargo test -p aimlapi-mock --test openai_python
//! ```

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use aimlapi_mock::MockServer;
use serde_json::Value;

/// Lists the models through the SDK and prints `{"version", "ids"}`; exits 3 when the package
/// cannot be imported. Proxies from the environment are not used: the mock is on 127.0.0.1.
const SCRIPT: &str = r#"
import json, sys
try:
    import openai
except ImportError as e:
    print("cannot import openai: %s" % e)
    sys.exit(3)
options = {}
if hasattr(openai, "DefaultHttpxClient"):
    options["http_client"] = openai.DefaultHttpxClient(trust_env=False)
client = openai.OpenAI(base_url=sys.argv[1], api_key="test", max_retries=0, timeout=20, **options)
ids = [model.id for model in client.models.list()]
print(json.dumps({"version": openai.__version__, "ids": ids}))
"#;

/// How long the interpreter may take.
const DEADLINE: Duration = Duration::from_secs(120);

/// A line on the real standard error, not the one the test harness captures.
fn loud(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Skips with a loud line, or fails when the SDK is required.
fn skip(why: &str) {
    let required = std::env::var("OPENAI_PYTHON_REQUIRED").is_ok_and(|v| v == "1");
    assert!(!required, "OPENAI_PYTHON_REQUIRED=1, but {why}");
    loud(&format!(
        "SKIP openai_python: {why} (set AIMLAPI_TEST_PYTHON to an interpreter with the openai \
         package, and OPENAI_PYTHON_REQUIRED=1 to make this a failure)"
    ));
}

/// Runs `python` on the script with `args`, killed after [`DEADLINE`]; `None` when the
/// interpreter cannot be started.
fn run(python: &str, args: &[&str]) -> Option<std::io::Result<Output>> {
    let mut child = Command::new(python)
        .arg("-c")
        .arg(SCRIPT)
        .args(args)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return Some(child.wait_with_output()),
            Ok(None) if start.elapsed() < DEADLINE => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Some(Err(std::io::Error::other(format!(
                    "{python} ran over {DEADLINE:?}"
                ))));
            }
            Err(e) => return Some(Err(e)),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_python_sdk_lists_the_catalogue() {
    let python = std::env::var("AIMLAPI_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mock = MockServer::start().await;
    let base = format!("{}/v1", mock.base_url());
    // The server runs on the runtime's workers while this waits for the interpreter.
    let (python_name, base_arg) = (python.clone(), base.clone());
    let ran = tokio::task::spawn_blocking(move || run(&python_name, &[&base_arg]))
        .await
        .unwrap();
    let Some(output) = ran else {
        return skip(&format!("no Python interpreter `{python}`"));
    };
    let output = output.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(3) {
        return skip(&format!(
            "`{python}` has no openai package: {}",
            stdout.trim()
        ));
    }
    assert!(
        output.status.success(),
        "the SDK failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let answer: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: the script printed {stdout}"));
    let ids: Vec<&str> = answer["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    assert!(ids.contains(&"anthropic/claude-3-5-haiku"), "{ids:?}");
    assert!(ids.contains(&"anthropic/claude-sonnet-4.5"), "{ids:?}");
    let catalogue = MockServer::catalogue();
    let expected: Vec<&str> = catalogue
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, expected);
    // It asked the catalogue route, as the SDK does.
    let seen = mock.requests();
    let asked = seen.iter().find(|r| r.path == "/v1/models").unwrap();
    assert_eq!(asked.method, "GET");
    assert!(
        asked
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("OpenAI/Python")),
        "{asked:?}"
    );
    loud(&format!(
        "openai_python: openai {} listed {} models from the mock",
        answer["version"].as_str().unwrap_or("?"),
        ids.len()
    ));
}
