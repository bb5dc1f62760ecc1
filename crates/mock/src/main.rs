//! `aimlapi-mock`: the mock AI/ML API server from the command line.

use std::time::Duration;

use aimlapi_mock::{BatchForm, Cassettes, Chunking, Format, MockServer, Mode};

const HELP: &str = "\
aimlapi-mock: a local stand-in for the AI/ML API's chat completions, Messages endpoint, message
batches and model catalogue (127.0.0.1 only)

USAGE:
    aimlapi-mock record --upstream URL --cassettes DIR [--all] [CASSETTE OPTIONS] [--port N]
    aimlapi-mock replay --cassettes DIR [--timing] [CASSETTE OPTIONS] [--port N]
    aimlapi-mock drift DIR
    aimlapi-mock [--port N] [--api-key KEY] [--legacy] [--pace-ms N] [--chunk-bytes N]
                 [--record-limit N] [--no-cost] [--batch-delay-ms N] [--batch-form FORM]
                 [--batch-progress] [--management-key KEY] [--account-balance USD]
                 [--charge-delay-ms N]

ROUTES:
    POST /v1/chat/completions, /chat/completions   chat completions
    POST /api/v1/chat/completions                  the same, answered as OpenRouter answers
    POST /v1/messages, /messages                   Anthropic's Messages endpoint
    GET  /v1/models, /models, /api/v1/models       the model catalogue (no key needed):
         ?include=pricing,modalities,capabilities|all  ?details=true
         filters: id type tags modalities input_modalities output_modalities capabilities
    GET  /model/{id}                               one model, by id or alias
    GET  /api/v1/generation?id=ID                  OpenRouter's stats of an answer given
    POST /v1/batches                               a message batch (also without /v1)
    GET  /v1/batches?batch_id=ID                   its status while it runs, its results after
    POST /v1/batches/cancel/{id}                   a cancel (400 once the batch has ended)
    GET  /v2/billing, /v2/billing/detail           the account's balance (moves with the calls)
    GET  /v2/billing/transactions                  the ledger, newest first, paged by cursor
    GET  /v2/usage, /v2/usage/detail               spend over a window (period or start+end)
    GET  /v2/logs                                  the request log (model, status repeated)
    GET  /v1/key; GET, POST /v1/keys; PATCH, PUT, DELETE /v1/keys/{prefix}   keys
    GET  /models/metrics                           live model metrics (no key needed)

OPTIONS:
    --port N          listen on this port (default: a free one, printed at start)
    --api-key KEY     require `Authorization: Bearer KEY`
    --legacy          stream in the format used before 2026-02-13
    --pace-ms N       pause N ms before each HTTP chunk of a stream
    --chunk-bytes N   cut streams into N-byte HTTP chunks (default: one per event)
    --record-limit N  keep the last N requests received (default: 1000), so memory stays
                      bounded however long the server runs
    --no-cost         answers without their cost (no meta.usage, no x-aimlapi-* headers, no
                      usage.cost)
    --batch-delay-ms N  a batch ends N ms after it is made (default 2000)
    --batch-form FORM   the batch status route answers as an `array` (default), `lines` (JSON
                        lines) or `bare` (values one after another)
    --batch-progress    a running batch's status is its batch object with moving counts, not
                        the gateway's `generating`
    --management-key KEY  a management key (reads any key's usage and logs, manages keys;
                          refused by the ledger)
    --account-balance USD the account's opening balance (default 100)
    --charge-delay-ms N   a call's charge lands in the ledger, usage and balance N ms after
                          its answer (default 500)
    -h, --help        this text

CASSETTES:
    record            a recording proxy in front of URL (e.g. https://api.aimlapi.com): answers
                      what DIR's cassettes hold, sends the rest to URL and records it (with
                      --all, sends everything and writes each cassette anew)
    replay            answers from DIR's cassettes only; a request none holds gets 404 naming
                      the closest exchange recorded and where it differs
    drift DIR         reports each field, enum value and block or event type in DIR's recorded
                      answers that the bundled documents do not name (exit status 1 if any)
    --name NAME       the cassette of requests without an `x-cassette: NAME` header (default:
                      `default`)
    --filter-header H filter one more header (authorization, proxy-authorization, x-api-key,
                      api-key, cookie and set-cookie always are); repeatable
    --filter-field F  filter a body field (a name at any depth, or a JSON pointer) and the query
                      parameter of that name; repeatable
    --ignore F        leave a request field out of matching (a name or a JSON pointer); repeatable
    --timing          replay with the recorded timing

Per request, the `x-mock-reply` header scripts the answer, e.g.
    x-mock-reply: status=429; header=Retry-After:1
    x-mock-reply: text=Hello; usage=5,1; drop-after=2
Settings: status=N body=TEXT header=NAME:VALUE text=TEXT tool=ID,NAME,ARGS usage=P,C
          thinking=TEXT,SIGNATURE keep-alive=N drop-after=N stall-after=N malformed-after=N
          error-chunk-after=N legacy no-cost
A setting that cannot be carried out (a bad header, a number that is not one, more than 10000
keep-alives) gets 400, with what is wrong in the `x-mock-validation` response header; so does a
request body that does not validate. A request body over 32 MiB gets 413.

Every response carries x-inference-id, and echoes a valid X-Client-Request-Id (1-128 of
A-Z a-z 0-9 . _ : -). Prices are the mock's own test data (its catalogue's).
";

fn fail(msg: &str) -> ! {
    eprintln!("aimlapi-mock: {msg}\n\n{HELP}");
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let mut builder = MockServer::builder();
    let mut args = std::env::args().skip(1).peekable();
    // The cassette commands: what they were given, and the set-up they build.
    let command = args
        .next_if(|a| matches!(a.as_str(), "record" | "replay" | "drift"))
        .unwrap_or_default();
    if command == "drift" {
        let dir = args
            .next()
            .unwrap_or_else(|| fail("drift needs a folder of cassettes"));
        if let Some(extra) = args.next() {
            fail(&format!("drift: unexpected argument `{extra}`"));
        }
        let found = aimlapi_mock::drift(&dir).unwrap_or_else(|e| fail(&format!("drift: {e}")));
        for d in &found {
            println!("{d}");
        }
        eprintln!(
            "aimlapi-mock: {} new to the bundled documents in {dir}",
            found.len()
        );
        std::process::exit(i32::from(!found.is_empty()));
    }
    let mut cassettes: Option<Cassettes> = None;
    let (mut upstream, mut all) = (None, false);
    let cassette_setup = |c: &mut Option<Cassettes>, name: &str| -> Cassettes {
        if command.is_empty() {
            fail(&format!("{name} is for the record and replay commands"));
        }
        c.take()
            .unwrap_or_else(|| fail(&format!("{name}: give --cassettes DIR first")))
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| fail(&format!("{name} needs a value")))
        };
        let number = |name: &str, v: String| -> u64 {
            v.parse()
                .unwrap_or_else(|_| fail(&format!("{name}: `{v}` is not a number")))
        };
        builder = match arg.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return;
            }
            "--port" => {
                let v = value("--port");
                let port = u16::try_from(number("--port", v))
                    .unwrap_or_else(|_| fail("--port: out of range"));
                builder.port(port)
            }
            "--api-key" => builder.api_key(value("--api-key")),
            "--legacy" => builder.format(Format::Legacy),
            "--no-cost" => builder.cost(false),
            "--pace-ms" => {
                let v = value("--pace-ms");
                builder.pace(Duration::from_millis(number("--pace-ms", v)))
            }
            "--record-limit" => {
                let v = value("--record-limit");
                let n = usize::try_from(number("--record-limit", v))
                    .unwrap_or_else(|_| fail("--record-limit: out of range"));
                builder.record_limit(n)
            }
            "--chunk-bytes" => {
                let v = value("--chunk-bytes");
                builder.chunking(Chunking::Bytes(
                    usize::try_from(number("--chunk-bytes", v))
                        .unwrap_or_else(|_| fail("--chunk-bytes: out of range")),
                ))
            }
            "--batch-delay-ms" => {
                let v = value("--batch-delay-ms");
                builder.batch_delay(Duration::from_millis(number("--batch-delay-ms", v)))
            }
            "--batch-form" => builder.batch_form(match value("--batch-form").as_str() {
                "array" => BatchForm::Array,
                "lines" => BatchForm::Lines,
                "bare" => BatchForm::Bare,
                other => fail(&format!(
                    "--batch-form: `{other}` is not array, lines or bare"
                )),
            }),
            "--batch-progress" => builder.batch_progress(true),
            "--management-key" => builder.management_key(value("--management-key")),
            "--account-balance" => {
                let v = value("--account-balance");
                let usd: f64 = v
                    .parse()
                    .ok()
                    .filter(|u: &f64| u.is_finite())
                    .unwrap_or_else(|| fail(&format!("--account-balance: `{v}` is not a number")));
                builder.account_balance(usd)
            }
            "--charge-delay-ms" => {
                let v = value("--charge-delay-ms");
                builder.charge_delay(Duration::from_millis(number("--charge-delay-ms", v)))
            }
            "--cassettes" if !command.is_empty() => {
                cassettes = Some(Cassettes::new(value("--cassettes")).name("default"));
                builder
            }
            "--upstream" if command == "record" => {
                upstream = Some(value("--upstream"));
                builder
            }
            "--all" if command == "record" => {
                all = true;
                builder
            }
            "--timing" if command == "replay" => {
                cassettes = Some(cassette_setup(&mut cassettes, "--timing").timing(true));
                builder
            }
            "--name" | "--filter-header" | "--filter-field" | "--ignore" => {
                let setup = cassette_setup(&mut cassettes, &arg);
                let v = value(&arg);
                cassettes = Some(match arg.as_str() {
                    "--name" => setup.name(&v),
                    "--filter-header" => setup.filter_header(&v),
                    "--filter-field" => setup.filter_field(&v),
                    _ => setup.ignore(&v),
                });
                builder
            }
            other => fail(&format!("unknown argument `{other}`")),
        };
    }
    if !command.is_empty() {
        let mut setup =
            cassettes.unwrap_or_else(|| fail(&format!("{command} needs --cassettes DIR")));
        if command == "record" {
            let url = upstream.unwrap_or_else(|| fail("record needs --upstream URL"));
            setup = setup.upstream(url).mode(if all {
                Mode::RecordAll
            } else {
                Mode::RecordMissing
            });
        }
        builder = builder.cassettes(setup);
    }
    let server = builder
        .start()
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen: {e}")));
    println!("{}", server.base_url());
    if !command.is_empty() {
        eprintln!("aimlapi-mock: {command}ing cassettes; Ctrl-C stops");
        tokio::signal::ctrl_c().await.ok();
        // The streams still being recorded, until they end, a second Ctrl-C or 30 s.
        eprintln!("aimlapi-mock: writing the cassettes (Ctrl-C again to stop now)");
        tokio::select! {
            _ = server.settle() => {}
            _ = tokio::signal::ctrl_c() => {}
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
        }
        return;
    }
    eprintln!(
        "aimlapi-mock: serving POST /v1/chat/completions, /v1/messages, /v1/batches, GET /v1/models, the account (/v2/...); Ctrl-C stops"
    );
    tokio::signal::ctrl_c().await.ok();
}
