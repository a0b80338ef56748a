"""`asr_bench.py --paths`: the same real recordings heard plainly, through POST /v1/asr and through the phone path.

Per set and path: WER, clips whose transcript loops (a phrase of 2+ words said 3+ times in a
row that the reference does not repeat), clips whose first reference word is missing from the
transcript's first three words (a cut-off start), extra words (transcript longer than the
reference, summed), and an indicative RTF (the box is shared; pin with `taskset -c 1`).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.asr_bench import edit_distance, words
from bench.asr_paths import Phone, PlainWhisper, Route
from bench.asr_real import Clip, real_sets
from voice.audio import resample


def loops(ws: list[str]) -> bool:
    for n in range(2, 8):
        for i in range(len(ws) - 3 * n + 1):
            if ws[i : i + n] == ws[i + n : i + 2 * n] == ws[i + 2 * n : i + 3 * n]:
                return True
    return False


def score(ref: str, hyp: str) -> dict[str, int]:
    r, h = words(ref), words(hyp)
    return {"errors": edit_distance(r, h), "words": len(r), "loop": int(loops(h) and not loops(r)),
            "cut_start": int(bool(r) and r[0] not in h[:3]), "extra": max(0, len(h) - len(r))}


def _asr_options(spec: str) -> dict[str, Any]:
    """"window=full,beam_size=5,initial_prompt=none,guard=on" -> WhisperASR keyword arguments."""
    out: dict[str, Any] = {}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        if key == "guard":
            from voice.whisper_decode import DecodeGuard

            out[key] = DecodeGuard() if value == "on" else None
        elif value.lower() == "none":
            out[key] = None
        else:
            out[key] = int(value) if value.isdigit() else float(value) if value.replace(".", "", 1).isdigit() else value
    return out


def compare(args: Any) -> int:
    from voice.asr import WhisperASR, resolve_whisper

    path = resolve_whisper("tiny.en", Path.home() / ".cache" / "bankassist" / "models")
    asr = WhisperASR(path, **_asr_options(args.asr))
    sets = real_sets(args.asterisk, args.calls)
    part = "holdout" if args.holdout else "dev"
    dump: list[dict[str, Any]] = []
    results = []
    for name in args.paths.split(","):
        run = PlainWhisper(path).text if name == "plain" else Route(asr).text if name == "route" else Phone(asr).text
        for set_name, clips in sets.items():
            chosen = [c for c in clips if c.holdout == args.holdout]
            if not chosen:
                continue
            r = _run_set(name, run, chosen, dump)
            r.update(path=name, set=set_name, part=part, asr=args.asr or "production")
            results.append(r)
            print(f"{name:5s} {set_name:17s} {part:7s} clips={r['clips']:3d} audio={r['audio_s']:6.1f}s "
                  f"RTF={r['rtf']:.3f} WER={r['wer']:.3f} loops={r['loop']} cut_start={r['cut_start']} "
                  f"extra_words={r['extra']}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.dump:
        Path(args.dump).write_text(json.dumps(dump, indent=1))
    return 0


def _run_set(path: str, run: Any, clips: list[Clip], dump: list[dict[str, Any]]) -> dict[str, Any]:
    totals = {"errors": 0, "words": 0, "loop": 0, "cut_start": 0, "extra": 0}
    audio_s = proc_s = 0.0
    for c in clips:
        t0 = time.perf_counter()
        hyp = run(resample(c.audio, c.rate, 16000)) if path == "plain" else run(c.audio, c.rate)
        proc_s += time.perf_counter() - t0
        audio_s += len(c.audio) / c.rate
        s = score(c.text, hyp)
        for k, v in s.items():
            totals[k] += v
        dump.append({"path": path, "clip": c.name, "ref": c.text, "hyp": hyp, **s})
    if not clips:
        print("no clips", file=sys.stderr)
    return {"clips": len(clips), "audio_s": round(audio_s, 1), "rtf": round(proc_s / max(audio_s, 1e-9), 4),
            "wer": round(totals["errors"] / max(1, totals["words"]), 4), **totals}


def rescore(dump_file: str) -> None:
    """Score a --dump file again (after a change to the word normaliser): WER per path and set prefix, dev/holdout."""
    rows = json.loads(Path(dump_file).read_text())
    groups: dict[tuple[str, str], list[int]] = {}
    for d in rows:
        s = score(d["ref"], d["hyp"])
        g = groups.setdefault((d["path"], d["clip"].split("/")[0]), [0, 0, 0, 0])
        g[0], g[1], g[2], g[3] = g[0] + s["errors"], g[1] + s["words"], g[2] + s["loop"], g[3] + s["cut_start"]
    for (path, kind), (e, n, lp, cut) in sorted(groups.items()):
        print(f"{path:5s} {kind:9s} WER={e / max(1, n):.3f} words={n} loops={lp} cut_start={cut}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    rescore(sys.argv[1])
