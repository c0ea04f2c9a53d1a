use super::*;

#[test]
fn chat_chunks_give_pieces_by_channel_and_write_back_only_texts() {
    let mut st = StreamText::new(Stream::Chat);
    let data = br#"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"hel","tool_calls":[{"index":1,"function":{"arguments":"{\"a"}}]},"logprobs":null,"finish_reason":null}]}"#;
    let mut event = st.read(data).unwrap_or_else(|| panic!("no texts"));
    let data = std::str::from_utf8(data).unwrap_or_default();
    assert_eq!(event.pieces.len(), 2);
    assert_eq!(event.pieces[0].channel, Channel::text(0));
    assert_eq!(event.pieces[1].channel.lane, Lane::Arguments(1));
    assert_eq!(event.write(data), data, "unchanged texts: the same bytes");
    event.pieces[0].text = "HEL".into();
    let written = event.write(data);
    assert_eq!(
        written,
        r#"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"HEL","tool_calls":[{"index":1,"function":{"arguments":"{\"a"}}]},"logprobs":null,"finish_reason":null}]}"#
    );
    let carried = st.carry(Channel::text(0), "lo").unwrap_or_default();
    let text = String::from_utf8_lossy(&carried);
    assert!(text.starts_with("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"m\",\"system_fingerprint\":\"fp\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}"), "{text}");
    let finish = br#"{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
    let event = st.read(finish).unwrap_or_else(|| panic!("no close"));
    assert_eq!(event.closes, [Close::Choice(0)]);
    assert!(
        st.read(br#"{"id":"c1","choices":[],"usage":{"prompt_tokens":1}}"#)
            .is_none()
    );
}

#[test]
fn anthropic_blocks_have_channels_closes_and_carried_deltas() {
    let mut st = StreamText::new(Stream::Messages);
    assert!(
        st.read(br#"{"type":"message_start","message":{}}"#)
            .is_none()
    );
    let start = st.read(
        br#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    );
    assert!(start.is_none());
    let delta = st
        .read(br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"#)
        .unwrap_or_else(|| panic!("no text"));
    assert_eq!(delta.pieces[0].text, "hi");
    let carried = st.carry(Channel::text(0), "there").unwrap_or_default();
    assert_eq!(
        String::from_utf8_lossy(&carried),
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"there\"}}\n\n"
    );
    let stop = st
        .read(br#"{"type":"content_block_stop","index":0}"#)
        .unwrap_or_else(|| panic!("no close"));
    assert_eq!(stop.closes, [Close::Channel(Channel::text(0))]);
    // What the block held can still be carried before its stop goes out.
    assert!(st.carry(Channel::text(0), "held").is_some());
    st.read(br#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}"#);
    assert!(st.carry(Channel::text(0), "late").is_none());
    let json = st
        .read(br#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":"}}"#)
        .unwrap_or_else(|| panic!("no json"));
    assert_eq!(json.pieces[0].channel.lane, Lane::Arguments(0));
    assert!(json.pieces[0].channel.json());
    let thinking = st.read(br#"{"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":"x"}}"#);
    assert!(thinking.is_none());
}
