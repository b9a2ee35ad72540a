#!/usr/bin/python3
"""Issue 6 in the media plane, with real webrtcbin peers through the media
engine (media-harness, no signaling):

(a) active speaker: two publishers whose Opus RTP carries RFC 6464 audio
    levels (GStreamer's level + rtphdrextclientaudiolevel); A plays a tone,
    then falls silent while C plays one: the active-speaker events follow
    (A, then C), then nobody (null) once both are silent.
(b) Last-N = 1: the subscriber B decodes only the active speaker's camera;
    when the speaker changes, the other camera resumes (key frame) and the
    first stops.
(c) set_source_enabled: B's decoded frames stop growing while A's camera
    is disabled, audio keeps coming; with the microphone disabled too audio
    stops; re-enabled, both grow again.
(d) unpublish: track-removed for both of A's tracks, A's publish peer
    closed; A publishes again on a new peer and a new subscriber decodes it.
(e) an aiortc 1.4 publisher playing a tone (aiortc writes the level too)
    becomes the active speaker.
"""

import asyncio
import os
import sys

from cauharness import SKIP, check, log, run_test
from peers_aiortc import wait_until
import peers_aiortc
import media_harness as mh


async def window(peer, seconds=2.0):
    """Frames per video pad, audio packets over @seconds."""
    f0, a0 = dict(peer.pad_frames), peer.audio_packets
    await asyncio.sleep(seconds)
    return ({k: v - f0.get(k, 0) for k, v in peer.pad_frames.items()},
            peer.audio_packets - a0)


async def main():
    if not os.environ.get("MEDIA_HARNESS"):
        log("SKIP: MEDIA_HARNESS not set (meson sets it)")
        sys.exit(SKIP)
    h = mh.MediaHarness()
    peers = []
    aiortc_pcs = []
    try:
        await h.ready()
        # -- publishers A (tone) and C (silent), subscriber B
        a, answer = await mh.publish_speaker(h, "A", volume=1.0, freq=440, pattern="ball")
        peers.append(a)
        check(mh.AUDIO_LEVEL_URI in a.local_sdp(), "A's offer carries the audio-level extmap")
        check(mh.AUDIO_LEVEL_URI in answer, "caud's publish answer keeps the audio-level extmap")
        c, _ = await mh.publish_speaker(h, "C", volume=0.0, freq=660, pattern="smpte")
        peers.append(c)
        b, info = await mh.subscriber(h, "B")
        peers.append(b)
        await h.subscribe("B")
        check(await wait_until(lambda: len(b.pad_frames) == 2 and
                               min(b.pad_frames.values()) >= 20, 20),
              "B decodes both cameras (%s)" % b.pad_frames)

        # -- (a) active speaker follows the tone
        _, ev = await h.wait(lambda m: m.get("op") == "active-speaker", 10, "active-speaker")
        check(ev["participant"] == "A", "first active speaker is A, who plays a tone (%s)" % ev)
        mark = len(h.events)
        mh.set_volume(a, 0.0)
        mh.set_volume(c, 1.0)
        t0 = asyncio.get_running_loop().time()
        _, ev = await h.wait(lambda m: m.get("op") == "active-speaker", 10,
                             "active-speaker after the swap", mark)
        took = asyncio.get_running_loop().time() - t0
        check(ev["participant"] == "C", "active speaker moves to C when C plays and A is silent "
              "(%s, after %.1f s)" % (ev, took))
        stats = await h.stats()
        check(stats["speaker_changes"] >= 2, "speaker_changes counted (%d)"
              % stats["speaker_changes"])

        # -- (b) Last-N = 1: only C's camera reaches B
        h.send({"op": "last-n", "n": 1})
        await asyncio.sleep(1.0)
        frames, _ = await window(b, 2.0)
        log("Last-N 1, C speaking: frames per pad over 2 s %s" % frames)
        growing = [k for k, v in frames.items() if v >= 5]
        check(len(growing) == 1, "with Last-N 1 one camera is forwarded (%s)" % frames)
        c_pad = growing[0]
        mark = len(h.events)
        mh.set_volume(c, 0.0)
        mh.set_volume(a, 1.0)
        _, ev = await h.wait(lambda m: m.get("op") == "active-speaker", 10,
                             "active-speaker back to A", mark)
        check(ev["participant"] == "A", "active speaker back to A (%s)" % ev)
        await asyncio.sleep(1.5)
        frames, _ = await window(b, 2.0)
        log("Last-N 1, A speaking: frames per pad over 2 s %s" % frames)
        check(frames[c_pad] <= 1 and sum(v >= 5 for v in frames.values()) == 1,
              "A's camera resumed, C's stopped (%s)" % frames)
        h.send({"op": "last-n", "n": 0})
        await asyncio.sleep(1.5)
        frames, _ = await window(b, 2.0)
        check(all(v >= 5 for v in frames.values()), "Last-N 0: both cameras again (%s)" % frames)

        # -- silence: active speaker null
        mark = len(h.events)
        mh.set_volume(a, 0.0)
        _, ev = await h.wait(lambda m: m.get("op") == "active-speaker", 10,
                             "active-speaker null", mark)
        check(ev["participant"] is None, "nobody speaks -> active speaker null (%s)" % ev)

        # -- (c) source enable/disable on A
        h.send({"op": "source", "participant": "A", "source": "camera", "enabled": False})
        await asyncio.sleep(1.0)
        frames, audio = await window(b, 2.0)
        log("A camera disabled: frames %s, audio packets %d" % (frames, audio))
        check(sum(v >= 5 for v in frames.values()) == 1, "A's camera is not forwarded (%s)" % frames)
        check(audio >= 50, "audio still forwarded (%d packets in 2 s)" % audio)
        h.send({"op": "source", "participant": "A", "source": "microphone", "enabled": False})
        h.send({"op": "source", "participant": "C", "source": None, "enabled": False})
        await asyncio.sleep(1.0)
        frames, audio = await window(b, 2.0)
        log("A camera+mic and all of C disabled: frames %s, audio %d" % (frames, audio))
        check(audio <= 2 and all(v <= 1 for v in frames.values()),
              "nothing forwarded while disabled (%s, %d audio)" % (frames, audio))
        stats0 = await h.stats()
        await asyncio.sleep(1.0)
        stats1 = await h.stats()
        check(stats1["rtp_packets_in"] > stats0["rtp_packets_in"] + 50,
              "packets still arrive and are counted (%d -> %d)"
              % (stats0["rtp_packets_in"], stats1["rtp_packets_in"]))
        h.send({"op": "source", "participant": "A", "source": None, "enabled": True})
        h.send({"op": "source", "participant": "C", "source": None, "enabled": True})
        await asyncio.sleep(1.5)
        frames, audio = await window(b, 2.0)
        log("re-enabled: frames %s, audio %d" % (frames, audio))
        check(all(v >= 5 for v in frames.values()) and audio >= 50,
              "after enabling, both cameras and audio grow again (%s, %d)" % (frames, audio))

        # -- (d) unpublish A, publish again
        mark = len(h.events)
        h.send({"op": "unpublish", "participant": "A"})
        await h.wait(lambda m: m.get("op") == "state" and m.get("participant") == "A" and
                     m.get("pc") == "publish" and m.get("state") == "closed", 10,
                     "A's publish peer closed", mark)
        await asyncio.sleep(0.5)
        removed = h.find("track-removed", mark, participant="A")
        check(sorted(r["kind"] for r in removed) == ["audio", "video"],
              "track-removed for A's audio and video (%s)" % removed)
        await h.subscribe("B")
        a.stop()
        a2, _ = await mh.publish_speaker(h, "A", volume=0.0, pattern="snow")
        peers.append(a2)
        added = h.find("track-added", mark, participant="A")
        check(len(added) == 2, "A publishes again: two new tracks (%s)" % added)
        await h.subscribe("B")
        # A subscriber joining now decodes A's new camera (B's reactivated
        # m-line gets a new SSRC, which webrtcbin 1.22 does not always
        # pick up: see room.c slot_attach).
        d, _ = await mh.subscriber(h, "D")
        peers.append(d)
        await h.subscribe("D")
        ok = await wait_until(lambda: len(d.pad_frames) == 2 and
                              min(d.pad_frames.values()) >= 20, 20)
        log("after A's second publish, D: %s" % d.pad_frames)
        check(ok, "A's new publication is decoded (D decodes A's and C's cameras)")

        # -- (e) aiortc 1.4 sends the audio level too: its tone takes the floor
        mark = len(h.events)
        pc, answer = await peers_aiortc.publish(h.sig("R"))
        aiortc_pcs.append(pc)
        check(mh.AUDIO_LEVEL_URI in answer, "aiortc's audio-level extmap is answered")
        _, ev = await h.wait(lambda m: m.get("op") == "active-speaker", 15,
                             "active-speaker for aiortc", mark)
        check(ev["participant"] == "R", "the aiortc publisher's tone makes it the speaker (%s)"
              % ev)
    finally:
        for pc in aiortc_pcs:
            await pc.close()
        for p in peers:
            p.stop()
        rc = h.close()
    check(rc == 0, "media-harness exited cleanly (%s)" % rc)


if __name__ == "__main__":
    run_test(lambda _caud: main(), needs_caud=False, deadline=240)
