use super::*;

fn chunk(content: &str) -> String {
    format!(
        "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m1\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{}}},\"finish_reason\":null}}]}}\n\n",
        serde_json::to_string(content).unwrap()
    )
}

const FINISH: &str =
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
const DONE: &str = "data: [DONE]\n\n";

fn run(body: &str) -> (String, StreamOutcome) {
    let mut stream = ChatStream::new();
    stream.push(body.as_bytes());
    let outcome = stream.outcome();
    (stream.text().to_owned(), outcome)
}

#[test]
fn an_openai_stream_completes() {
    let role = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n";
    let usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n";
    let body = format!("{role}{}{}{FINISH}{usage}{DONE}", chunk("Hel"), chunk("lo"));
    let mut stream = ChatStream::new();
    assert_eq!(stream.push(body.as_bytes()).answer, "Hello");
    assert_eq!(stream.model(), Some("m1"));
    assert_eq!(stream.usage().unwrap().total_tokens, 5);
    assert_eq!(
        stream.outcome(),
        StreamOutcome::Complete {
            finish_reason: Some("stop".into())
        }
    );
}

#[test]
fn litellm_variations_are_accepted() {
    // No `finish_reason: null`, a `: ping`, a usage chunk with an empty delta.
    let body = format!(
        ": ping\n\ndata: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"abc\"}}}}]}}\n\n{FINISH}data: {{\"choices\":[{{\"index\":0,\"delta\":{{}}}}],\"usage\":{{\"total_tokens\":9}}}}\n\n{DONE}"
    );
    let (text, outcome) = run(&body);
    assert_eq!(text, "abc");
    assert!(matches!(outcome, StreamOutcome::Complete { .. }));
}

#[test]
fn a_finish_reason_without_done_is_complete() {
    let (text, outcome) = run(&format!("{}{FINISH}", chunk("x")));
    assert_eq!(text, "x");
    assert!(matches!(outcome, StreamOutcome::Complete { .. }));
}

#[test]
fn done_without_a_finish_reason_is_complete() {
    let (_, outcome) = run(&format!("{}{DONE}", chunk("x")));
    assert_eq!(
        outcome,
        StreamOutcome::Complete {
            finish_reason: None
        }
    );
}

#[test]
fn an_ending_with_neither_done_nor_finish_is_interrupted() {
    let (text, outcome) = run(&format!("{}{}", chunk("par"), chunk("tial")));
    assert_eq!(text, "partial");
    assert_eq!(outcome, StreamOutcome::Interrupted);
}

#[test]
fn a_frame_cut_in_half_at_the_end_is_interrupted_not_malformed() {
    let whole = chunk("kept");
    let cut = &chunk("lost")[..30];
    let (text, outcome) = run(&format!("{whole}{cut}"));
    assert_eq!(text, "kept");
    assert_eq!(outcome, StreamOutcome::Interrupted);
}

#[test]
fn an_error_frame_fails_the_reply_with_or_without_done() {
    let error = "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n";
    for tail in ["", DONE] {
        let (text, outcome) = run(&format!("{}{error}{tail}{}", chunk("a"), chunk("b")));
        assert_eq!(text, "a", "text after the error is ignored");
        assert_eq!(
            outcome,
            StreamOutcome::Failed(ReplyError::InStream {
                message: "overloaded".into()
            })
        );
    }
}

#[test]
fn malformed_json_fails_the_reply() {
    for frame in [
        "data: {not json}\n\n",
        "data: [1, 2]\n\n",
        "data: {\"error\": 42}\n\n",
        "data: {\"error\": {\"message\": 5}}\n\n",
    ] {
        let (_, outcome) = run(frame);
        assert!(
            matches!(outcome, StreamOutcome::Failed(ReplyError::Malformed { .. })),
            "{frame}"
        );
    }
}

#[test]
fn fields_of_an_unexpected_type_count_as_absent() {
    let odd = "data: {\"model\":7,\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":1}],\"usage\":{\"prompt_tokens\":null,\"completion_tokens\":2,\"total_tokens\":\"2\",\"completion_tokens_details\":null}}\n\n";
    let mut stream = ChatStream::new();
    stream.push(format!("{odd}{}{FINISH}{DONE}", chunk(" there")).as_bytes());
    assert_eq!(stream.text(), "hi there");
    assert_eq!(
        stream.usage(),
        Some(&Usage {
            completion_tokens: 2,
            ..Usage::default()
        })
    );
    // The model's name comes from the first frame that has a string.
    assert_eq!(stream.model(), Some("m1"));
    assert!(matches!(stream.outcome(), StreamOutcome::Complete { .. }));
}

#[test]
fn bytes_after_done_are_ignored() {
    let mut stream = ChatStream::new();
    stream.push(format!("{}{DONE}", chunk("a")).as_bytes());
    assert!(stream.is_finished());
    assert!(stream.push(chunk("b").as_bytes()).is_empty());
    assert_eq!(stream.text(), "a");
}

#[test]
fn any_split_gives_the_same_text() {
    let body = format!("{}{}{FINISH}{DONE}", chunk("héllo 你"), chunk(" wörld 👋"));
    let bytes = body.as_bytes();
    for split in 0..bytes.len() {
        let mut stream = ChatStream::new();
        let mut seen = stream.push(&bytes[..split]).answer;
        seen.push_str(&stream.push(&bytes[split..]).answer);
        assert_eq!(seen, "héllo 你 wörld 👋", "split at {split}");
        assert!(matches!(stream.outcome(), StreamOutcome::Complete { .. }));
    }
}

/// Each reasoning wire form as its servers stream it: (name, body,
/// reasoning, answer).
fn reasoning_forms() -> Vec<(&'static str, String, &'static str, &'static str)> {
    let frames = |lines: &[&str]| -> String { lines.iter().map(|l| format!("{l}\n\n")).collect() };
    vec![
        (
            "deepseek reasoning_content",
            frames(&[
                r#"data: {"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}]}"#,
                r#"data: {"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Two and "},"logprobs":null,"finish_reason":null}]}"#,
                r#"data: {"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"two: 4."},"logprobs":null,"finish_reason":null}]}"#,
                r#"data: {"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"It is ","reasoning_content":null},"logprobs":null,"finish_reason":null}]}"#,
                r#"data: {"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"4.","reasoning_content":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":12},"prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":9}}"#,
                "data: [DONE]",
            ]),
            "Two and two: 4.",
            "It is 4.",
        ),
        (
            "openrouter reasoning + reasoning_details",
            frames(&[
                ": OPENROUTER PROCESSING",
                r#"data: {"id":"gen-1","provider":"DeepInfra","model":"deepseek/deepseek-r1","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"Two and ","reasoning_details":[{"type":"reasoning.text","text":"Two and ","format":"unknown","index":0}]},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}"#,
                r#"data: {"id":"gen-1","provider":"DeepInfra","model":"deepseek/deepseek-r1","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"two: 4.","reasoning_details":[{"type":"reasoning.text","text":"two: 4.","format":"unknown","index":0}]},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}"#,
                r#"data: {"id":"gen-1","provider":"DeepInfra","model":"deepseek/deepseek-r1","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"It is 4.","reasoning":null},"finish_reason":"stop","native_finish_reason":"stop","logprobs":null}]}"#,
                r#"data: {"id":"gen-1","provider":"DeepInfra","model":"deepseek/deepseek-r1","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null,"native_finish_reason":null,"logprobs":null}],"usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29,"completion_tokens_details":{"reasoning_tokens":12}}}"#,
                "data: [DONE]",
            ]),
            "Two and two: 4.",
            "It is 4.",
        ),
        (
            "groq reasoning",
            frames(&[
                r#"data: {"id":"chatcmpl-g","object":"chat.completion.chunk","created":1,"model":"qwen/qwen3-32b","system_fingerprint":"fp_g","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"x_groq":{"id":"req_1"}}"#,
                r#"data: {"id":"chatcmpl-g","object":"chat.completion.chunk","created":1,"model":"qwen/qwen3-32b","system_fingerprint":"fp_g","choices":[{"index":0,"delta":{"reasoning":"Two and two: 4."},"logprobs":null,"finish_reason":null}]}"#,
                r#"data: {"id":"chatcmpl-g","object":"chat.completion.chunk","created":1,"model":"qwen/qwen3-32b","system_fingerprint":"fp_g","choices":[{"index":0,"delta":{"content":"It is 4."},"logprobs":null,"finish_reason":null}]}"#,
                r#"data: {"id":"chatcmpl-g","object":"chat.completion.chunk","created":1,"model":"qwen/qwen3-32b","system_fingerprint":"fp_g","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29}}}"#,
                "data: [DONE]",
            ]),
            "Two and two: 4.",
            "It is 4.",
        ),
        (
            "thinking",
            frames(&[
                r#"data: {"choices":[{"index":0,"delta":{"thinking":"Two and two: 4."}}]}"#,
                r#"data: {"choices":[{"index":0,"delta":{"thinking":"","content":"It is 4."},"finish_reason":"stop"}]}"#,
                "data: [DONE]",
            ]),
            "Two and two: 4.",
            "It is 4.",
        ),
        (
            "openrouter summary + encrypted details",
            frames(&[
                r#"data: {"id":"gen-2","provider":"OpenAI","model":"openai/o4-mini","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning_details":[{"type":"reasoning.summary","summary":"Two and two: 4.","format":"openai-responses-v1","index":0}]},"finish_reason":null}]}"#,
                r#"data: {"id":"gen-2","provider":"OpenAI","model":"openai/o4-mini","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning_details":[{"type":"reasoning.encrypted","data":"gAAAAABo-secret","id":"rs_1","format":"openai-responses-v1","index":1}]},"finish_reason":null}]}"#,
                r#"data: {"id":"gen-2","provider":"OpenAI","model":"openai/o4-mini","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"It is 4."},"finish_reason":"stop"}]}"#,
                "data: [DONE]",
            ]),
            "Two and two: 4.",
            "It is 4.",
        ),
        (
            "ollama <think> in content",
            frames(&[
                r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"qwen3:0.6b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"<think>"},"finish_reason":null}]}"#,
                r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"qwen3:0.6b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"\nTwo and two: 4.\n"},"finish_reason":null}]}"#,
                r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"qwen3:0.6b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"</think>\n\nIt is 4."},"finish_reason":null}]}"#,
                r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"qwen3:0.6b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop"}]}"#,
                "data: [DONE]",
            ]),
            "Two and two: 4.\n",
            "It is 4.",
        ),
    ]
}

#[test]
fn every_reasoning_form_splits_the_same_at_every_byte() {
    for (name, body, reasoning, answer) in reasoning_forms() {
        let bytes = body.as_bytes();
        for split in 0..=bytes.len() {
            let mut stream = ChatStream::new();
            let (mut seen_reasoning, mut seen_answer) = (String::new(), String::new());
            for piece in [&bytes[..split], &bytes[split..]] {
                let added = stream.push(piece);
                seen_reasoning.push_str(&added.reasoning);
                seen_answer.push_str(&added.answer);
            }
            let outcome = stream.outcome();
            assert!(
                matches!(outcome, StreamOutcome::Complete { .. }),
                "{name} at {split}"
            );
            assert_eq!(seen_reasoning, reasoning, "{name} at {split}");
            assert_eq!(seen_answer, answer, "{name} at {split}");
            assert_eq!(stream.text(), answer, "{name} at {split}");
            assert_eq!(
                stream.reasoning().reasoning(),
                reasoning,
                "{name} at {split}"
            );
        }
    }
}

#[test]
fn encrypted_reasoning_is_kept_and_reasoning_tokens_read() {
    let forms = reasoning_forms();
    let (_, body, _, _) = &forms[4];
    let mut stream = ChatStream::new();
    stream.push(body.as_bytes());
    assert_eq!(stream.reasoning().encrypted().len(), 1);
    assert!(!stream.text().contains("gAAAA"));
    assert!(!stream.reasoning().reasoning().contains("gAAAA"));
    let (_, body, _, _) = &forms[0];
    let mut stream = ChatStream::new();
    stream.push(body.as_bytes());
    assert_eq!(stream.usage().unwrap().reasoning_tokens(), Some(12));
}

#[test]
fn thinking_is_timed_with_the_injected_clock() {
    let forms = reasoning_forms();
    let (_, body, _, _) = &forms[0];
    // One reading per frame with choices: 10 s, 11 s, 12 s, …
    let mut stream = ChatStream::timed(Box::new(crate::clock::SteppingClock::new(10.0, 1.0)));
    for frame in body.split_inclusive("\n\n") {
        stream.push(frame.as_bytes());
    }
    stream.outcome();
    // The first reasoning arrived at 11 s (the first frame's is empty),
    // the first answer token at 13 s.
    assert_eq!(stream.reasoning().thought_millis(), Some(2000));
}

#[test]
fn a_whole_reply_not_streamed_is_read_with_its_reasoning() {
    for (message, reasoning) in [
        (
            r#"{"role":"assistant","content":"It is 4.","reasoning_content":"Two and two: 4."}"#,
            "Two and two: 4.",
        ),
        (
            r#"{"role":"assistant","content":"It is 4.","reasoning":"Two and two: 4.","reasoning_details":[{"type":"reasoning.text","text":"Two and two: 4."}]}"#,
            "Two and two: 4.",
        ),
        (
            r#"{"role":"assistant","content":"<think>\nTwo and two: 4.\n</think>\n\nIt is 4."}"#,
            "Two and two: 4.\n",
        ),
        (r#"{"role":"assistant","content":"It is 4."}"#, ""),
    ] {
        let body = format!(
            r#"{{"id":"c","object":"chat.completion","created":1,"model":"deepseek-reasoner","choices":[{{"index":0,"message":{message},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29,"completion_tokens_details":{{"reasoning_tokens":12}}}}}}"#
        );
        let bytes = body.as_bytes();
        for split in [0, 1, bytes.len() / 2, bytes.len()] {
            let mut stream = ChatStream::new();
            stream.push(&bytes[..split]);
            stream.push(&bytes[split..]);
            let outcome = stream.outcome();
            assert!(
                matches!(outcome, StreamOutcome::Complete { .. }),
                "{message}"
            );
            assert_eq!(stream.text(), "It is 4.", "{message}");
            assert_eq!(stream.reasoning().reasoning(), reasoning, "{message}");
            assert_eq!(stream.model(), Some("deepseek-reasoner"));
            assert_eq!(stream.usage().unwrap().reasoning_tokens(), Some(12));
        }
    }
}

#[test]
fn an_unclosed_think_tag_keeps_what_arrived_as_reasoning() {
    let body = format!("{}{}", chunk("<think>Still wei"), chunk("ghing it </thi"));
    let mut stream = ChatStream::new();
    stream.push(body.as_bytes());
    assert_eq!(stream.outcome(), StreamOutcome::Interrupted);
    assert_eq!(stream.text(), "");
    assert_eq!(stream.reasoning().reasoning(), "Still weighing it </thi");
}

#[test]
fn http_errors_read_the_error_body() {
    let body = r#"{"error":{"message":"Rate limit reached","type":"rate_limit","code":null}}"#;
    let error = ReplyError::from_http(429, body);
    assert_eq!(
        error,
        ReplyError::Http {
            status: 429,
            message: "Rate limit reached".into()
        }
    );
    let shown = error.to_string();
    assert!(shown.contains("HTTP 429: Rate limit reached"), "{shown}");
    assert!(shown.contains("wait a moment"), "{shown}");
    assert_eq!(error.code(), "http_429");
    let plain = ReplyError::from_http(502, "<html>Bad gateway</html>");
    assert!(plain.to_string().contains("<html>Bad gateway</html>"));
    assert!(plain.to_string().contains("press Retry"));
    let text = ReplyError::from_http(401, r#"{"error":"bad key"}"#);
    assert!(text.to_string().contains("bad key") && text.to_string().contains("API key"));
}

#[test]
fn model_lists_are_read() {
    let body = r#"{"object":"list","data":[{"id":"b","object":"model"},{"id":"a"}]}"#;
    assert_eq!(model_ids(body), Some(vec!["a".into(), "b".into()]));
    assert_eq!(model_ids(r#"{"error":{"message":"no"}}"#), None);
}

#[test]
fn the_request_serialises_as_openai_expects() {
    let request = ChatRequest {
        model: None,
        messages: vec![ChatMessage::new("user", "hi")],
        stream: true,
        stream_options: Some(StreamOptions {
            include_usage: true,
        }),
        temperature: None,
    };
    let json = serde_json::to_value(&request).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "messages": [{"role": "user", "content": "hi"}],
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    );
}

#[test]
fn a_proxy_reporting_a_broken_upstream_cuts_the_reply_off_rather_than_failing_it() {
    for frame in [
        r#"data: {"error":{"message":"The connection to the upstream model server broke in the middle of the reply (reset). Try again.","type":"upstream_unreachable","code":null}}"#,
        r#"data: {"error":{"message":"The model server went silent.","type":"timeout_error","code":"upstream_idle_timeout"}}"#,
    ] {
        let mut stream = ChatStream::new();
        stream.push(chunk("Hello, wor").as_bytes());
        stream.push(format!("{frame}\n\n").as_bytes());
        let outcome = stream.outcome();
        let StreamOutcome::Broken(error) = outcome else {
            panic!("expected a cut-off reply, got {outcome:?}");
        };
        assert_eq!(stream.text(), "Hello, wor");
        assert!(error.to_string().contains("press Continue"), "{error}");
        assert!(!error.to_string().contains(".."), "{error}");
    }
    // Any other error frame is a failure, with one full stop.
    let mut stream = ChatStream::new();
    stream.push(b"data: {\"error\":{\"message\":\"Bad things.\",\"type\":\"server_error\"}}\n\n");
    let StreamOutcome::Failed(error) = stream.outcome() else {
        panic!("expected a failure");
    };
    assert_eq!(
        error.to_string(),
        "The model stopped with an error: Bad things. Press Retry to ask again."
    );
}

#[test]
fn a_plain_message_stays_a_string_and_parts_become_typed_objects() {
    let plain = serde_json::to_string(&ChatMessage::new("user", "hi")).unwrap();
    assert_eq!(plain, r#"{"role":"user","content":"hi"}"#);
    let message = ChatMessage::parts(
        "user",
        vec![
            ContentPart::Text("Describe these.".into()),
            ContentPart::ImageUrl("data:image/png;base64,iVBORw==".into()),
            ContentPart::File {
                filename: "paper.pdf".into(),
                file_data: "data:application/pdf;base64,JVBERg==".into(),
            },
        ],
    );
    assert_eq!(
        serde_json::to_value(&message).unwrap(),
        serde_json::json!({"role": "user", "content": [
            {"type": "text", "text": "Describe these."},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
            {"type": "file", "file": {"filename": "paper.pdf",
                                      "file_data": "data:application/pdf;base64,JVBERg=="}}
        ]})
    );
    assert_eq!(message.content.text(), "Describe these.");
}

#[test]
fn a_model_refusing_images_or_files_is_told_apart_from_other_errors() {
    let images = [
        (
            400,
            r#"{"error":{"message":"Invalid content type. image_url is only supported by certain models.","type":"invalid_request_error","param":"messages.[0].content.[1].type","code":null}}"#,
        ),
        (
            400,
            r#"{"error":{"message":"litellm.BadRequestError: The provided model is not a vision model. Please provide a vision model. (Extra Info: {'model': 'gpt-4'})","type":null,"param":null,"code":"400"}}"#,
        ),
        (
            422,
            "Failed to deserialize the JSON body into the target type: messages[0]: unknown variant `image_url`, expected `text` at line 1 column 120",
        ),
        (
            400,
            r#"{"object":"error","message":"Qwen2ForCausalLM is not a multimodal model None","type":"BadRequestError","param":null,"code":400}"#,
        ),
        (
            500,
            r#"{"error":{"code":500,"message":"image input is not supported - hint: if this is unexpected, you may need to provide the mmproj","type":"server_error"}}"#,
        ),
        (
            500,
            r#"{"error":{"message":"this model is missing data required for image input","type":"api_error","param":null,"code":null}}"#,
        ),
        (
            400,
            r#"{"error":"Model does not support images. Please use a model that does."}"#,
        ),
    ];
    for (status, body) in images {
        assert_eq!(
            ReplyError::from_http(status, body),
            ReplyError::ImagesRefused {
                model: String::new()
            },
            "{body}"
        );
    }
    let files = [
        r#"{"error":{"message":"Invalid content type. file is only supported by certain models.","type":"invalid_request_error"}}"#,
        r#"{"error":{"message":"Invalid value: 'file'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', and 'audio'.","type":"invalid_request_error"}}"#,
        "messages[0]: unknown variant `file`, expected `text` or `image_url`",
        r#"{"error":{"message":"PDF input is not supported by this model"}}"#,
    ];
    for body in files {
        assert_eq!(
            ReplyError::from_http(400, body),
            ReplyError::FilesRefused {
                model: String::new()
            },
            "{body}"
        );
    }
    // An image the model could read, but not this one; a refusal on a
    // status that is no refusal; an unrelated 400: plain HTTP errors.
    for (status, body) in [
        (
            400,
            r#"{"error":{"message":"You uploaded an unsupported image. Please make sure your image is below 20 MB in size and is of one the following formats: ['png', 'jpeg', 'gif', 'webp'].","type":"invalid_request_error","code":"invalid_image_format"}}"#,
        ),
        (
            400,
            r#"{"error":{"message":"Invalid image data: the image is too large.","type":"invalid_request_error"}}"#,
        ),
        (
            400,
            r#"{"error":{"message":"Invalid value for 'image_url.url': expected a base64-encoded data URL with an image MIME type.","type":"invalid_request_error"}}"#,
        ),
        (
            429,
            r#"{"error":{"message":"image_url is only supported by certain models.","type":"rate"}}"#,
        ),
        (
            400,
            r#"{"error":{"message":"Invalid value for 'temperature': must be at most 2.","type":"invalid_request_error"}}"#,
        ),
    ] {
        assert!(
            matches!(ReplyError::from_http(status, body), ReplyError::Http { .. }),
            "{body}"
        );
    }
}
