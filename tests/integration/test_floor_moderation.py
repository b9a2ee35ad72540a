#!/usr/bin/python3
"""Issue 6 over caud's WSS with real webrtcbin peers: the floor of a
briefing, the active speaker and host moderation, end to end.

In a plain room joined with kind "briefing" (anonymous rooms on):
H, the host (its first joiner), publishes a camera and a tone (Opus with
RFC 6464 audio levels); S, a viewer, receives and decodes; V, a viewer,
tries to publish a real webrtcbin offer and gets `floor-required` with a
message that says what to do; V raises its hand, H sees it and gives V the
floor; V's publish is then answered, and S decodes both cameras.

Asserts: roles in `joined`; floor-required for the viewer; the hand and
the role changes reach the others (participant-updated, room-updated with
the presenters); S gets `active-speaker` naming H while H plays the tone,
then V when the tones swap; H's mute-participant of V's camera sends V
`muted-by-host` and stops V's camera at S (only H's grows) while audio
keeps coming; V unmutes itself and its camera grows again at S; H takes the
floor back: S gets track-removed for V's two tracks, V is a viewer again
and its next publish is refused."""

import asyncio

from cauharness import Signaling, TestFailure, check, log, run_test
from peers_aiortc import wait_until
from peers_gst import GstPeer, attach_subscriber, drive_publisher
import media_harness as mh

ROOM = "it-floor-moderation"


async def join(caud, name, kind=None):
    sig = await Signaling(caud.ws_url, name).connect()
    msg = {"type": "join", "room": ROOM, "name": name}
    if kind:
        msg["kind"] = kind
    r = await sig.request(msg)
    if r.get("type") != "joined":
        raise TestFailure("%s: join refused: %s" % (name, r))
    sig.participant = r["participant"]
    return sig, r


async def publish_speaker(sig, name, volume):
    peer, answer = await drive_publisher(sig, name, fps=15,
                                         pipeline=mh.speaker_pipeline(volume, 440, "ball"),
                                         prepare=mh.add_audio_level_extension)
    ok = await wait_until(lambda: peer.conn_state == "connected", 20)
    check(ok, "%s's publish connection reaches connected (%s)" % (name, peer.conn_state))
    return peer


async def frames_window(peer, seconds=2.0):
    """Decoded frames per video pad, and audio packets, over @seconds."""
    f0, a0 = dict(peer.pad_frames), peer.audio_packets
    await asyncio.sleep(seconds)
    return ({k: v - f0.get(k, 0) for k, v in peer.pad_frames.items()},
            peer.audio_packets - a0)


def updated_about(pid, **want):
    def pred(m):
        if m.get("type") != "participant-updated":
            return False
        p = m.get("participant") or {}
        return p.get("id") == pid and all(p.get(k) == v for k, v in want.items())
    return pred


async def main(caud):
    sigs, peers = [], []
    try:
        h_sig, joined = await join(caud, "H", kind="briefing")
        sigs.append(h_sig)
        check(joined.get("kind") == "briefing" and joined.get("role") == "host",
              "the briefing's first joiner hosts (%s %s)" % (joined.get("kind"), joined.get("role")))
        check(joined.get("simulcast") is True, "joined says the server takes simulcast")
        h_id = h_sig.participant
        h = await publish_speaker(h_sig, "H", 1.0)
        peers.append(h)

        s_sig = await Signaling(caud.ws_url, "S").connect()
        sigs.append(s_sig)
        s, _ = await attach_subscriber(s_sig, "S")
        peers.append(s)
        r = await s_sig.request({"type": "join", "room": ROOM, "name": "S"})
        check(r.get("role") == "viewer", "S joins as a viewer (%s)" % r.get("role"))

        v_sig, r = await join(caud, "V")
        sigs.append(v_sig)
        check(r.get("role") == "viewer" and r.get("kind") == "briefing",
              "V joins the briefing as a viewer (%s)" % r.get("role"))
        v_id = v_sig.participant

        # A viewer's real offer is refused, with a message that says why.
        probe = GstPeer("V-probe", "publish")
        peers.append(probe)
        offer = await probe.create_offer()
        reply = await v_sig.request({"type": "publish", "sdp": offer})
        check(reply.get("type") == "error" and reply.get("code") == "floor-required",
              "a viewer's publish gets floor-required (%s)" % reply)
        check("floor" in reply.get("message", ""), "the message tells the viewer about the "
              "floor (%r)" % reply.get("message"))
        probe.stop()

        # S decodes H; the active speaker is H (the tone).
        ok = await wait_until(lambda: len(s.pad_frames) == 1 and
                              min(s.pad_frames.values()) >= 15, 20)
        check(ok, "S decodes H's camera (%s)" % s.pad_frames)
        ev = await s_sig.wait_for(lambda m: m.get("type") == "active-speaker"
                                  and m.get("participant") == h_id, 15, "active-speaker H")
        log("active speaker: %s" % ev)

        # Raised hand, then the floor.
        r = await v_sig.request({"type": "raise-hand", "raised": True})
        check(r.get("type") == "ok", "raise-hand answered ok (%s)" % r)
        await h_sig.wait_for(updated_about(v_id, hand_raised=True), 10, "V's raised hand at H")
        r = await v_sig.request({"type": "floor", "action": "grant", "participant": v_id})
        check(r.get("code") == "not-host", "a viewer cannot grant the floor (%s)" % r)
        r = await h_sig.request({"type": "floor", "action": "grant", "participant": v_id})
        check(r.get("type") == "ok", "H grants V the floor (%s)" % r)
        await v_sig.wait_for(updated_about(v_id, role="presenter", hand_raised=False), 10,
                             "V told it presents")
        await s_sig.wait_for(updated_about(v_id, role="presenter"), 10, "S told V presents")
        st = await s_sig.wait_for(lambda m: m.get("type") == "room-updated" and
                                  m["room_state"].get("presenters") == [h_id, v_id], 10,
                                  "room-updated with the presenters H, V")
        log("room state: %s" % st["room_state"])

        v = await publish_speaker(v_sig, "V", 0.0)
        peers.append(v)
        ok = await wait_until(lambda: len(s.pad_frames) == 2 and
                              min(s.pad_frames.values()) >= 15, 25)
        check(ok, "S decodes both presenters' cameras (%s)" % s.pad_frames)

        # The tones swap: the active speaker follows.
        mh.set_volume(h, 0.0)
        mh.set_volume(v, 1.0)
        await s_sig.wait_for(lambda m: m.get("type") == "active-speaker"
                             and m.get("participant") == v_id, 15, "active-speaker V")

        # Host mute of V's camera: V is told, S stops getting it.
        r = await h_sig.request({"type": "mute-participant", "participant": v_id, "kind": "video"})
        check(r.get("type") == "ok", "H mutes V's camera (%s)" % r)
        m = await v_sig.wait_for("muted-by-host", 10)
        check(m.get("kind") == "video" and m.get("by") == h_id,
              "V gets muted-by-host naming the kind and the host (%s)" % m)
        await s_sig.wait_for(updated_about(v_id, video_muted=True), 10, "S sees V muted")
        await asyncio.sleep(1.0)
        frames, audio = await frames_window(s)
        log("V's camera muted by H: frames per pad %s, audio packets %d" % (frames, audio))
        check(sum(n >= 5 for n in frames.values()) == 1 and min(frames.values()) <= 1,
              "only H's camera reaches S (%s)" % frames)
        check(audio >= 50, "audio still reaches S (%d packets in 2 s)" % audio)
        r = await v_sig.request({"type": "mute", "kind": "video", "muted": False})
        check(r.get("type") == "ok", "V unmutes itself (%s)" % r)
        await asyncio.sleep(1.5)
        frames, _ = await frames_window(s)
        log("V unmuted: frames per pad %s" % frames)
        check(all(n >= 5 for n in frames.values()), "both cameras reach S again (%s)" % frames)

        # The floor back: V's tracks go, V is a viewer, and may not publish.
        mark = len(s_sig.received)
        r = await h_sig.request({"type": "floor", "action": "revoke", "participant": v_id})
        check(r.get("type") == "ok", "H takes the floor back (%s)" % r)
        await v_sig.wait_for(updated_about(v_id, role="viewer"), 10, "V told it views")
        ok = await wait_until(lambda: sum(1 for m in s_sig.received[mark:]
                                          if m.get("type") == "track-removed"
                                          and m.get("participant") == v_id) == 2, 10)
        check(ok, "S gets track-removed for V's audio and video")
        reply = await v_sig.request({"type": "publish", "sdp": offer})
        check(reply.get("code") == "floor-required",
              "after the revoke V's publish is refused again (%s)" % reply)
    finally:
        for p in peers:
            p.stop()
        for sig in sigs:
            await sig.close()


if __name__ == "__main__":
    run_test(main, deadline=170)
