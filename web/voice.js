// Browser voice client for WS /v1/voice/pcm: microphone -> 16 kHz PCM16 frames; JSON events and PCM16 audio back.
// Each audio clip is acknowledged with {"type":"mark"} when it has played, so the server knows what was heard.
(() => {
  const RATE = 16000;
  const $ = (id) => document.getElementById(id);
  let ws, ctx, stream, node, source, playHead = 0, pendingAudio = null, playing = [], partialEl = null;

  const status = (t) => { $("status").textContent = t; };
  function line(cls, text) {
    const div = document.createElement("div");
    div.className = "turn " + cls; div.textContent = text;
    $("log").appendChild(div); div.scrollIntoView({ block: "end" });
    return div;
  }

  function downsample(input, inRate) {  // Float32 at the context rate -> Int16 at 16 kHz (averaging)
    const ratio = inRate / RATE, out = new Int16Array(Math.floor(input.length / ratio));
    for (let i = 0; i < out.length; i++) {
      const a = Math.floor(i * ratio), b = Math.min(input.length, Math.floor((i + 1) * ratio));
      let sum = 0; for (let j = a; j < b; j++) sum += input[j];
      const v = Math.max(-1, Math.min(1, sum / Math.max(1, b - a)));
      out[i] = v < 0 ? v * 0x8000 : v * 0x7fff;
    }
    return out;
  }

  function play(pcm, rate, mark) {
    const f = new Float32Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) f[i] = pcm[i] / 32768;
    const buf = ctx.createBuffer(1, f.length, rate); buf.copyToChannel(f, 0);
    const src = ctx.createBufferSource(); src.buffer = buf; src.connect(ctx.destination);
    playHead = Math.max(playHead, ctx.currentTime + 0.02);
    src.start(playHead); playHead += buf.duration;
    src.onended = () => {
      playing = playing.filter((p) => p !== src);
      if (!src.cleared && ws && ws.readyState === 1) ws.send(JSON.stringify({ type: "mark", name: mark }));
    };
    playing.push(src);
  }

  function clearPlayback() {
    for (const s of playing) { s.cleared = true; try { s.stop(); } catch (e) {} }
    playing = []; playHead = 0;
  }

  function onEvent(ev) {
    switch (ev.type) {
      case "ready": status("Connected. Conversation " + ev.conversation_id); break;
      case "audio": pendingAudio = ev; break;
      case "clear": clearPlayback(); break;
      case "speech_started": status("Listening…"); break;
      case "partial": (partialEl ||= line("partial", "")).textContent = "… " + ev.text; break;
      case "transcript":
        if (partialEl) { partialEl.remove(); partialEl = null; }
        line("you", "You: " + (ev.text || "(not understood)")); status("Thinking…"); break;
      case "reply": line("bot", "Assistant: " + ev.text); status("Speaking… (you can interrupt)"); break;
      case "barge_in": line("note", "(interrupted" + (ev.heard ? " after: " + ev.heard : "") + ")"); break;
      case "handoff": line("note", "Transferring to an agent" + (ev.ticket_id ? " (ticket " + ev.ticket_id + ")" : "")); break;
      case "end": line("note", "Call ended: " + ev.outcome); hangup(); break;
      case "error": line("note", "Error: " + ev.detail); break;
    }
  }

  async function start() {
    ctx = new AudioContext();
    stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 } });
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}/v1/voice/pcm?rate=16000&out_rate=${RATE}&partials=true&channel=web`);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (m) => {
      if (typeof m.data === "string") return onEvent(JSON.parse(m.data));
      if (pendingAudio) { play(new Int16Array(m.data), pendingAudio.sample_rate, pendingAudio.mark); pendingAudio = null; }
    };
    ws.onclose = () => { status("Call ended."); hangup(); };
    source = ctx.createMediaStreamSource(stream);
    node = ctx.createScriptProcessor(2048, 1, 1);  // widely supported; an AudioWorklet works the same way
    node.onaudioprocess = (e) => {
      const input = e.inputBuffer.getChannelData(0);
      let peak = 0; for (let i = 0; i < input.length; i += 16) peak = Math.max(peak, Math.abs(input[i]));
      $("level").firstElementChild.style.width = Math.min(100, peak * 140) + "%";
      if (ws.readyState === 1) ws.send(downsample(input, ctx.sampleRate).buffer);
    };
    source.connect(node); node.connect(ctx.destination);
    $("start").disabled = true; $("agent").disabled = false; $("stop").disabled = false;
  }

  function hangup() {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify({ type: "hangup" })); ws.close(); }
    if (node) node.disconnect();
    if (stream) stream.getTracks().forEach((t) => t.stop());
    $("start").disabled = false; $("agent").disabled = true; $("stop").disabled = true;
  }

  $("start").onclick = () => start().catch((e) => status("Microphone unavailable: " + e.message));
  $("stop").onclick = hangup;
  $("agent").onclick = () => ws && ws.send(JSON.stringify({ type: "dtmf", digit: "0" }));
})();
