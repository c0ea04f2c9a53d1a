//! Canonical requests encoded to Gemini bodies: golden bodies, notes, calling modes,
//! and the refusals.

use super::*;

#[test]
fn requests_encode_to_the_golden_bodies() {
    for name in [
        "chat_basic",
        "tools",
        "multimodal",
        "structured_reasoning",
        "gemini_extras",
    ] {
        let (body, _) = encode(&canonical_request(name));
        assert_eq!(
            body,
            json_file(&format!("requests/{name}.gemini.json")),
            "{name}"
        );
    }
}

#[test]
fn encoder_output_re_decodes_as_the_wire_type() {
    for name in [
        "chat_basic",
        "tools",
        "multimodal",
        "structured_reasoning",
        "gemini_extras",
    ] {
        let (body, _) = encode(&canonical_request(name));
        let wire: wire::GenerateContentRequest = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(serde_json::to_value(&wire).unwrap(), body, "{name}");
    }
}

#[test]
fn dropped_fields_are_named_in_notes() {
    let (_, notes) = encode(&canonical_request("chat_basic"));
    assert!(notes.is_empty(), "{notes:?}");
    let (_, notes) = encode(&canonical_request("tools"));
    for expected in [
        "dropped `user_tag`: not supported by gemini",
        "dropped `n`: not supported by gemini",
        "dropped `user`: not supported by gemini",
        "dropped `parallel_tool_calls: false`: gemini cannot forbid parallel calls",
        "dropped thinking: gemini cannot verify other providers' reasoning",
        "dropped tool `strict`: gemini has no strict mode",
        "tool `get_weather` parameters: dropped `$schema`, `additionalProperties`: not supported by gemini schemas",
    ] {
        assert!(
            notes.iter().any(|n| n == expected),
            "missing {expected:?} in {notes:?}"
        );
    }
    let (_, notes) = encode(&canonical_request("multimodal"));
    assert!(
        notes.iter().any(|n| n.contains("cache_control")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("`detail`")), "{notes:?}");
    let (_, notes) = encode(&canonical_request("structured_reasoning"));
    assert!(
        notes.contains(&"response_format schema: dropped `additionalProperties`, format `email`: not supported by gemini schemas".to_owned()),
        "{notes:?}"
    );
    let (_, notes) = encode(&canonical_request("gemini_extras"));
    assert!(
        notes.is_empty(),
        "same-format extras are written back, not dropped: {notes:?}"
    );
}

#[test]
fn tool_choice_maps_to_calling_modes() {
    use sluice_protocol::canonical::ToolChoice;
    let mut req = canonical_request("tools");
    for (choice, mode) in [
        (ToolChoice::Auto, "AUTO"),
        (ToolChoice::None, "NONE"),
        (ToolChoice::Required, "ANY"),
    ] {
        req.tool_choice = Some(choice);
        let (body, _) = encode(&req);
        assert_eq!(
            body["toolConfig"],
            json!({"functionCallingConfig": {"mode": mode}})
        );
    }
    // Without declared functions a calling mode means nothing (and Gemini rejects it).
    req.tools.clear();
    let (body, _) = encode(&req);
    assert!(body.get("toolConfig").is_none() && body.get("tools").is_none());
}

#[test]
fn answer_changing_foreign_extras_are_refused() {
    let mut req = canonical_request("chat_basic");
    req.extra.insert("logprobs".into(), json!(true));
    let err = gemini::encode_request(&req, &mut Vec::new()).unwrap_err();
    assert_eq!(err, TranslateError::unsupported("logprobs", "gemini"));
}

#[test]
fn images_in_tool_results_are_unsupported() {
    let mut req = canonical_request("tools");
    let Part::ToolResult { content, .. } = &mut req.messages[2].content[0] else {
        panic!()
    };
    content.push(Part::Image {
        source: sluice_protocol::canonical::ImageSource::Url("https://x/y.png".into()),
        detail: None,
        cache_control: None,
    });
    let err = gemini::encode_request(&req, &mut Vec::new()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::unsupported("image in tool result", "gemini")
    );
}

#[test]
fn tool_results_need_a_function_name() {
    let mut req = canonical_request("tools");
    let Part::ToolResult { call_id, .. } = &mut req.messages[2].content[0] else {
        panic!()
    };
    *call_id = "call_unknown".into();
    let err = gemini::encode_request(&req, &mut Vec::new()).unwrap_err();
    let TranslateError::Invalid { message, param } = err else {
        panic!("{err:?}")
    };
    assert!(message.contains("call_unknown"), "{message}");
    assert_eq!(param.as_deref(), Some("messages[2].content[0].call_id"));
}

#[test]
fn the_nearest_earlier_call_names_a_result_when_ids_repeat() {
    let mut req = canonical_request("tools");
    // A later turn reuses `call_a` for another function (synthesized ids can repeat).
    let mut later = req.messages[1].clone();
    later.content = vec![Part::ToolCall {
        id: "call_a".into(),
        name: "convert".into(),
        arguments: "{}".into(),
    }];
    req.messages.push(later);
    let mut result = req.messages[2].clone();
    if let Part::ToolResult { name, .. } = &mut result.content[0] {
        *name = None;
    }
    req.messages.push(result);
    let (body, _) = encode(&req);
    let last = body["contents"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["parts"][0]["functionResponse"]["name"], "convert");
}

#[test]
fn tool_call_arguments_must_be_an_object() {
    let mut req = canonical_request("tools");
    let Part::ToolCall { arguments, .. } = &mut req.messages[1].content[2] else {
        panic!()
    };
    *arguments = "[1, 2]".into();
    let err = gemini::encode_request(&req, &mut Vec::new()).unwrap_err();
    let TranslateError::Invalid { param, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(param.as_deref(), Some("messages[1].content[2].arguments"));
}
