//! Generates a chat history in Confab's real stored format, for benchmarks.
//!
//! ```sh
//! cargo run --release -p confab-core --example gen_history -- 200 100 > history.json
//! cargo run --release -p confab-core --example gen_history -- 200 100 --max-units 5000000
//! ```
//!
//! Arguments: the number of conversations, the number of messages in each
//! (half user messages, half replies), and optionally the number of words
//! per message (default 4). The history is made by driving the real
//! `SessionManager` over a `KvSessionService` on an in-memory store, as the
//! app does over localStorage, so the keys and values are exactly what the
//! current schema writes. Standard output gets one JSON object: every
//! key and its value, ready to be put into localStorage as it is.
//!
//! Messages are added round by round (one exchange in every conversation,
//! then the next), so after each round the store is that of a history with
//! fewer messages per conversation. With `--max-units N` the output is the
//! largest such history whose keys and values take at most N UTF-16 code
//! units (what a browser's localStorage quota counts); the full history is
//! still generated, to report what it would need.
//!
//! Time comes from a manual clock that ends just before the current time,
//! so nothing has expired (a week idle) when the app loads it. A summary
//! goes to stderr, with a last line `stats: {json}` for scripts.

use std::collections::BTreeMap;
use std::process::ExitCode;

use confab_core::clock::{Clock, ManualClock, SystemClock};
use confab_core::manager::{CallResult, Limits, SessionManager};
use confab_core::session::{KvSessionService, MessageStatus};
use confab_core::settings::{APP_NAME, DEFAULT_USER};
use confab_core::storage::{Journaled, KvStore, MemoryKv};
use serde_json::json;

/// Seconds between two messages of the generated history.
const STEP: f64 = 1.0;

/// A few words of readable filler, varied by `seed` (deterministic).
fn words(seed: usize, count: usize) -> String {
    const VOCABULARY: [&str; 16] = [
        "storage",
        "benchmark",
        "reply",
        "token",
        "session",
        "browser",
        "quota",
        "history",
        "message",
        "sidebar",
        "stream",
        "draft",
        "index",
        "record",
        "trace",
        "query",
    ];
    (0..count)
        .map(|i| VOCABULARY[(seed * 7 + i * 3) % VOCABULARY.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

struct Args {
    conversations: usize,
    messages: usize,
    words: usize,
    max_units: Option<usize>,
}

fn number(text: &str, name: &str) -> Result<usize, String> {
    text.parse()
        .map_err(|_| format!("{name} must be a whole number, not {text:?}"))
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut max_units = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--max-units" {
            let value = args.next().ok_or("--max-units needs a number")?;
            max_units = Some(number(&value, "--max-units")?);
        } else {
            positional.push(arg);
        }
    }
    let at = |i: usize, default: usize, name: &str| {
        positional
            .get(i)
            .map_or(Ok(default), |text| number(text, name))
    };
    Ok(Args {
        conversations: at(0, 200, "conversations")?,
        messages: at(1, 100, "messages")?,
        words: at(2, 4, "words")?,
        max_units,
    })
}

/// Every key of the store and its value.
fn snapshot(kv: &MemoryKv) -> Result<BTreeMap<String, String>, String> {
    let mut entries = BTreeMap::new();
    for key in kv.keys().map_err(|e| e.to_string())? {
        let value = kv.get(&key).map_err(|e| e.to_string())?;
        entries.insert(key, value.unwrap_or_default());
    }
    Ok(entries)
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let exchanges = args.messages / 2;
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("{what} failed: {e}");

    // `MemoryKv::new()` has no quota (only `with_quota` sets one): the whole
    // history is generated, and `--max-units` picks what fits afterwards.
    let kv = MemoryKv::new();
    let steps = (args.conversations * (1 + exchanges * 2)) as f64 * STEP;
    // End a minute before now, so the app's clock is never behind the data.
    let clock = ManualClock::at(SystemClock.now() - steps - 60.0);
    let journaled = Journaled::new(&kv);
    let mut manager = SessionManager::new(
        KvSessionService::new(journaled.clone(), clock.clone()),
        journaled,
        clock.clone(),
        APP_NAME,
        Limits::default(),
    );

    let mut sessions = Vec::with_capacity(args.conversations);
    for _ in 0..args.conversations {
        let session = manager
            .create_new_session(DEFAULT_USER)
            .map_err(|e| fail("create_new_session", &e))?;
        sessions.push(session.id);
        clock.advance(STEP);
    }

    // The largest store (and its messages per conversation) within the limit.
    let started = std::time::Instant::now();
    let mut fitting: Option<(usize, BTreeMap<String, String>)> = None;
    for round in 0..exchanges {
        for (c, session_id) in sessions.iter().enumerate() {
            // Opening a conversation makes it the current one, as in the app.
            manager
                .switch_to(DEFAULT_USER, session_id)
                .map_err(|e| fail("switch_to", &e))?;
            let seed = c * exchanges + round;
            // The first message titles the conversation: make it unique.
            let text = format!("#{c}.{round} {}", words(seed, args.words));
            let query = manager
                .begin_query(DEFAULT_USER, &text)
                .map_err(|e| fail("begin_query", &e))?;
            let call = manager
                .begin_call(DEFAULT_USER, &query.session.id, None)
                .map_err(|e| fail("begin_call", &e))?;
            clock.advance(STEP);
            manager
                .finish_call(
                    DEFAULT_USER,
                    &call,
                    CallResult {
                        agent_events: Vec::new(),
                        text: words(seed + 1, args.words),
                        status: MessageStatus::Complete,
                        response_model: Some("confab-echo".into()),
                        first_token_at: Some(clock.now()),
                        finish_reason: Some("stop".into()),
                        ..CallResult::default()
                    },
                )
                .map_err(|e| fail("finish_call", &e))?;
            clock.advance(STEP);
        }
        // Spans waiting for export are of no interest here.
        manager.take_finished_spans();
        if let Some(max) = args.max_units
            && kv.used_units() <= max
        {
            fitting = Some(((round + 1) * 2, snapshot(&kv)?));
        }
    }

    // The rounds' time alone: what one message costs as the store grows.
    let elapsed = started.elapsed();
    let full_units = kv.used_units();
    let (messages, entries) = match (args.max_units, fitting) {
        (Some(max), _) if full_units <= max => (exchanges * 2, snapshot(&kv)?),
        (Some(_), Some(fit)) => fit,
        (Some(max), None) => {
            return Err(format!(
                "not even one exchange per conversation fits in {max} units"
            ));
        }
        (None, _) => (exchanges * 2, snapshot(&kv)?),
    };
    let units: usize = entries
        .iter()
        .map(|(k, v)| k.encode_utf16().count() + v.encode_utf16().count())
        .sum();
    let json = serde_json::to_string(&entries).map_err(|e| fail("serialize", &e))?;
    println!("{json}");

    eprintln!(
        "gen_history: {} conversations x {} messages ({} words each) take {full_units} UTF-16 units",
        args.conversations,
        exchanges * 2,
        args.words
    );
    let generated = args.conversations * exchanges * 2;
    let ms_per_message = if generated == 0 {
        0.0
    } else {
        elapsed.as_secs_f64() * 1_000.0 / generated as f64
    };
    eprintln!(
        "gen_history: {generated} messages in {:.2} s: {ms_per_message:.3} ms per message",
        elapsed.as_secs_f64()
    );
    if messages != exchanges * 2 {
        eprintln!(
            "gen_history: written: {} conversations x {messages} messages, {units} units (limit {})",
            args.conversations,
            args.max_units.unwrap_or_default()
        );
    }
    let stats = json!({
        "conversations": args.conversations,
        "requestedMessages": exchanges * 2,
        "requestedUnits": full_units,
        "messages": messages,
        "units": units,
        "keys": entries.len(),
        "words": args.words,
        "msPerMessage": (ms_per_message * 1_000.0).round() / 1_000.0,
    });
    eprintln!("stats: {stats}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gen_history: {error}");
            ExitCode::FAILURE
        }
    }
}
