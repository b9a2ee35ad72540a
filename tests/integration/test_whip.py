#!/usr/bin/python3
"""WHIP (RFC 9725) and WHEP into a briefing, with a third-party client.

caud runs in demo mode.  specialist.thanhhoa schedules a briefing over REST
and joins its room over WSS (the host); clinician.dongson joins as a viewing
site (a webrtcbin subscriber from peers_gst).  The presenter publishes with whip_gst_client —
a GStreamer webrtcbin pipeline (videotestsrc/audiotestsrc → VP8/Opus) that
POSTs its offer with http.client and shares no code with caud or with the
harness's signaling.  Checked:

  - refusals: no token 401 (WWW-Authenticate: Bearer), a bad token 401, a
    patient's token 403, the auditor 403, a site that is not the host 403,
    an unknown briefing 404, a bad SDP 400, a wrong Content-Type 415, GET
    405; OPTIONS 204 with Accept-Post; nothing joins the room meanwhile;
  - the publish: 201, application/sdp answer, Location /whip/{id}/{res},
    ETag; the briefing turns live; the viewer sees participant-joined and
    track-added (audio and video) and decodes >= 30 VP8 frames;
  - trickle PATCH: 204 with the ETag, 412 with another, 422 for an ICE
    restart (If-Match: *), 415 for a wrong type, 403 for another user, 204
    for another token of the same user, 401 without a token;
  - the floor: a site the host gave the floor (WSS `floor` grant) publishes
    over WHIP too (201); a fifth floor holder is 409 presenters-full; the
    floor taken back, the site is refused (403);
  - WHEP: a webrtcbin recvonly viewer decodes frames (or, while the media
    plane's WHEP body is a placeholder, gets its 503 bad-state error);
    patient and auditor are refused 403;
  - DELETE by another user 403; by the presenter 200, with the token that
    created the session even after it was logged out: the viewer sees
    track-removed and participant-left; DELETE again 404;
  - an ended briefing refuses WHIP with 410.

Exit 0 pass, 1 fail, 77 skip (caud not built).
"""

import asyncio
import datetime
import json
import time
import uuid

from cauharness import Caud, TestFailure, check, log, run_test
from peers_gst import attach_subscriber
from test_recording_signaling import DEMO_PASSWORD, http_json, join, login
from whip_gst_client import WhipClient, request

BOGUS_OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def patient_token(caud, clinician_token):
    """A patient's token: an invitation of the clinician's first consultation."""
    status, worklist = http_json(caud, "GET", "/api/consultations", clinician_token)
    check(status == 200 and worklist, "the clinician's worklist")
    status, inv = http_json(caud, "POST", "/api/consultations/%s/invitations" % worklist[0]["id"],
                            clinician_token, {"lifetime_minutes": 30})
    check(status == 201, "an invitation")
    status, redeemed = http_json(caud, "POST", "/api/invitations/redeem", None,
                                 {"secret": inv["secret"]})
    check(status == 200, "the patient's token")
    return redeemed["token"]


def post(url, token, body, content_type="application/sdp"):
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = "Bearer " + token
    return request(url, "POST", body, headers)


def error_code(reply):
    try:
        return json.loads(reply.body).get("code")
    except ValueError:
        return None


async def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        await asyncio.sleep(0.2)
    raise TestFailure("%s within %ss" % (what, timeout))


async def main(_unused):
    caud = Caud(extra_args=["--demo", "on"], env={"CAU_DEMO_PASSWORD": DEMO_PASSWORD}).start()
    loop = asyncio.get_running_loop()
    clients, peers, sigs = [], [], []
    try:
        t_host = login(caud, "specialist.thanhhoa")
        t_present = login(caud, "specialist.thanhhoa")    # the WHIP client's own token
        t_site = login(caud, "clinician.dongson")
        t_nurse = login(caud, "nurse.dongson")
        t_auditor = login(caud, "auditor")
        t_patient = patient_token(caud, t_site)
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        status, briefing = http_json(caud, "POST", "/api/briefings", t_host,
                                     {"title": "Giao ban tuyến tỉnh (WHIP)", "scheduled_at": now})
        check(status == 201 and briefing["status"] == "planned", "briefing scheduled")
        bid = briefing["id"]
        base = "https://127.0.0.1:%d" % caud.port
        whip_url = base + briefing["whip_path"]
        whep_url = base + briefing["whep_path"]

        # The host and a viewing site join the briefing's room over WSS.
        host, _ = await join(caud, "host", bid, t_host)
        sigs.append(host)
        site, joined = await join(caud, "site", bid, t_site)
        sigs.append(site)
        viewer, _ = await attach_subscriber(site, "site")
        peers.append(viewer)

        # ---- refusals, before anything publishes
        r = post(whip_url, None, BOGUS_OFFER)
        check(r.status == 401 and (r.header("www-authenticate") or "").startswith("Bearer"),
              "no token: 401 with WWW-Authenticate: Bearer (%d %s)" % (r.status, r.body))
        r = post(whip_url, "not-a-token", BOGUS_OFFER)
        check(r.status == 401, "a bad token: 401 (%d)" % r.status)
        r = post(whip_url, t_patient, BOGUS_OFFER)
        check(r.status == 403 and error_code(r) == "forbidden", "a patient's token: 403 (%d)" % r.status)
        r = post(whip_url, t_auditor, BOGUS_OFFER)
        check(r.status == 403, "the auditor: 403 (%d)" % r.status)
        r = post(whip_url, t_site, BOGUS_OFFER)
        check(r.status == 403, "a site that is not the host: 403 (%d)" % r.status)
        r = post(base + "/whip/%s" % uuid.uuid4(), t_host, BOGUS_OFFER)
        check(r.status == 404, "an unknown briefing: 404 (%d)" % r.status)
        r = post(base + "/whip/not-a-briefing", t_host, BOGUS_OFFER)
        check(r.status == 404, "a malformed briefing id: 404 (%d)" % r.status)
        r = post(whip_url, t_host, "hello, not SDP")
        check(r.status == 400 and error_code(r) == "bad-sdp", "a bad SDP: 400 (%d %s)" % (r.status, r.body))
        r = post(whip_url, t_host, BOGUS_OFFER)
        check(r.status == 400 and error_code(r) == "bad-sdp", "an SDP without media: 400 (%d)" % r.status)
        r = post(whip_url, t_host, '{"sdp": "v=0"}', "application/json")
        check(r.status == 415, "a wrong Content-Type: 415 (%d)" % r.status)
        r = request(whip_url, "GET", None, {"Authorization": "Bearer " + t_host})
        check(r.status == 405 and "POST" in (r.header("allow") or ""), "GET: 405 (%d)" % r.status)
        r = request(whip_url, "OPTIONS")
        check(r.status == 204 and r.header("accept-post") == "application/sdp",
              "OPTIONS: 204 with Accept-Post (%d %s)" % (r.status, r.headers))
        check(not [m for m in site.received if m.get("type") == "participant-joined"],
              "nothing joined the room during the refusals")

        # ---- the presenter publishes with webrtcbin
        presenter = WhipClient(whip_url, t_present, log=log)
        clients.append(presenter)
        r = await loop.run_in_executor(None, presenter.publish)
        check(r.status == 201, "WHIP POST: 201 (%d %s)"
              % (r.status, "answer" if r.status == 201 else r.body[:200]))
        check((r.header("content-type") or "").startswith("application/sdp"),
              "the answer is application/sdp")
        check((r.header("location") or "").startswith("/whip/%s/" % bid),
              "Location /whip/{briefing}/{resource}: %s" % r.header("location"))
        check(bool(presenter.etag), "an ETag: %s" % presenter.etag)
        check("a=candidate:" in presenter.answer, "the answer carries its candidates")
        joined_msg = await site.wait_for("participant-joined", timeout=10)
        whip_participant = joined_msg["participant"]["id"]
        check(joined_msg["participant"].get("role") == "presenter",
              "the WHIP member is a presenter: %s" % joined_msg["participant"].get("role"))
        added = []
        for _ in range(2):
            m = await site.wait_for(lambda m: m.get("type") == "track-added"
                                    and m.get("participant") == whip_participant,
                                    timeout=20, what="track-added of the WHIP presenter")
            added.append(m["track"]["kind"])
        check(sorted(added) == ["audio", "video"], "track-added audio and video: %s" % added)
        await wait_until(lambda: viewer.video_frames >= 30, 30,
                         "the WSS viewer decodes >= 30 frames of the WHIP presenter")
        log("viewer decoded %d frames, %d audio packets" % (viewer.video_frames,
                                                            viewer.audio_packets))
        check(viewer.video_frames >= 30, "the WSS viewer decodes the WHIP publisher's video")
        status, now_briefing = http_json(caud, "GET", "/api/briefings/" + bid, t_site)
        check(status == 200 and now_briefing["status"] == "live", "the briefing is live")

        # ---- the audit log: the WHIP join, and the refusals above
        status, me = http_json(caud, "GET", "/api/me", t_present)
        check(status == 200, "who the presenter is")
        status, events = http_json(caud, "GET", "/api/audit?action=join&limit=500", t_auditor)
        check(status == 200, "the auditor reads the join events")
        mine = [e for e in events if e["entity_id"] == bid]
        check(any(e["actor_id"] == me["id"] and e["outcome"] == "success" for e in mine),
              "the WHIP session's join is audited (%d join events of the briefing)" % len(mine))
        denied = [e for e in mine if e["outcome"] == "denied"]
        check(len(denied) >= 3 and {"patient", "auditor", "clinician"} <= {e["actor_role"] for e in denied},
              "the refused WHIP offers are audited: %s" % sorted(e["actor_role"] for e in denied))

        # ---- trickle PATCH
        frag = ("a=ice-ufrag:%s\r\na=ice-pwd:whatever\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
                "a=mid:0\r\na=candidate:1 1 udp 2122260223 127.0.0.1 9 typ host\r\n"
                "a=end-of-candidates\r\n")
        ufrag = [l[12:].strip() for l in presenter.offer.splitlines()
                 if l.startswith("a=ice-ufrag:")][0]
        r = await loop.run_in_executor(None, presenter.patch, frag % ufrag,
                                       "application/trickle-ice-sdpfrag", presenter.etag)
        check(r.status == 204, "trickle PATCH with the ETag: 204 (%d %s)" % (r.status, r.body))
        r = request(presenter.location, "PATCH", frag % ufrag,
                    {"Authorization": "Bearer " + t_host, "If-Match": presenter.etag,
                     "Content-Type": "application/trickle-ice-sdpfrag"})
        check(r.status == 204, "PATCH with another token of the same user: 204 (%d)" % r.status)
        r = request(presenter.location, "PATCH", frag % ufrag,
                    {"Content-Type": "application/trickle-ice-sdpfrag"})
        check(r.status == 401, "PATCH without a token: 401 (%d)" % r.status)
        r = await loop.run_in_executor(None, presenter.patch, frag % ufrag,
                                       "application/trickle-ice-sdpfrag", '"stale"')
        check(r.status == 412, "PATCH with another ETag: 412 (%d)" % r.status)
        r = await loop.run_in_executor(None, presenter.patch, frag % "newufrag",
                                       "application/trickle-ice-sdpfrag", "*")
        check(r.status == 422, "ICE restart (If-Match: *): 422 (%d)" % r.status)
        r = await loop.run_in_executor(None, presenter.patch, frag % ufrag, "text/plain",
                                       presenter.etag)
        check(r.status == 415, "PATCH with a wrong type: 415 (%d)" % r.status)
        r = request(presenter.location, "PATCH", frag % ufrag,
                    {"Authorization": "Bearer " + t_site,
                     "Content-Type": "application/trickle-ice-sdpfrag"})
        check(r.status == 403, "PATCH by another user: 403 (%d)" % r.status)
        r = request(presenter.location, "OPTIONS")
        check(r.status == 204 and r.header("accept-patch") == "application/trickle-ice-sdpfrag",
              "OPTIONS on the session: Accept-Patch (%d)" % r.status)

        # ---- the floor: a site given the floor publishes too; four floor
        # holders at most (the host, the WHIP presenter, the site and its
        # WHIP session); the floor taken back, the site is refused again.
        reply = await host.request({"type": "floor", "action": "grant",
                                    "participant": site.participant})
        check(reply.get("type") == "ok", "the host gives the site the floor: %s" % reply)
        r = post(whip_url, t_site, presenter.offer)
        check(r.status == 201, "WHIP by the site holding the floor: 201 (%d)" % r.status)
        site_whip = base + r.header("location")
        r = post(whip_url, t_host, presenter.offer)
        check(r.status == 409 and error_code(r) == "presenters-full",
              "a fifth floor holder: 409 presenters-full (%d %s)" % (r.status, r.body))
        r = request(site_whip, "DELETE", None, {"Authorization": "Bearer " + t_site})
        check(r.status == 200, "the site's WHIP session deleted: %d" % r.status)
        reply = await host.request({"type": "floor", "action": "revoke",
                                    "participant": site.participant})
        check(reply.get("type") == "ok", "the host takes the floor back: %s" % reply)
        r = post(whip_url, t_site, presenter.offer)
        check(r.status == 403, "WHIP by the site without the floor: 403 (%d)" % r.status)

        # ---- WHEP
        r = post(whep_url, t_patient, BOGUS_OFFER)
        check(r.status == 403, "WHEP by a patient: 403 (%d)" % r.status)
        r = post(whep_url, t_auditor, BOGUS_OFFER)
        check(r.status == 403, "WHEP by the auditor: 403 (%d)" % r.status)
        r = post(whep_url, t_nurse, presenter.offer)
        check(r.status == 400 and error_code(r) == "bad-sdp",
              "WHEP with a sendonly offer: 400 (%d %s)" % (r.status, r.body[:120]))
        watcher = WhipClient(whep_url, t_nurse, log=log)
        clients.append(watcher)
        r = await loop.run_in_executor(None, watcher.view)
        if r.status == 201:
            check(watcher.location.startswith(base + "/whep/%s/" % bid), "WHEP Location")
            await wait_until(lambda: watcher.video_frames >= 15, 30,
                             "the WHEP viewer decodes >= 15 frames")
            log("WHEP viewer decoded %d frames" % watcher.video_frames)
            r = await loop.run_in_executor(None, watcher.delete)
            check(r.status == 200, "WHEP DELETE: 200 (%d)" % r.status)
        else:
            check(r.status == 503 and error_code(r) == "bad-state",
                  "WHEP before the media plane can bind viewers: 503 bad-state (%d %s)"
                  % (r.status, r.body))
            log("NOTE: WHEP viewing is not in the media plane yet: %s" % r.body)

        # ---- DELETE
        r = await loop.run_in_executor(None, presenter.delete, t_site)
        check(r.status == 403, "DELETE by another user: 403 (%d)" % r.status)
        # The token that created the session still ends it after it stopped
        # being valid (logged out here; expired in a long briefing).
        status, _ = http_json(caud, "POST", "/api/auth/logout", t_present)
        check(status == 204, "the presenter's token logged out")
        r = post(whip_url, t_present, presenter.offer)
        check(r.status == 401, "that token opens no new session: 401 (%d)" % r.status)
        r = await loop.run_in_executor(None, presenter.delete)
        check(r.status == 200, "DELETE by the presenter with its first token: 200 (%d)" % r.status)
        removed = await site.wait_for(lambda m: m.get("type") == "track-removed"
                                      and m.get("participant") == whip_participant,
                                      timeout=10, what="track-removed of the WHIP presenter")
        check(removed is not None, "track-removed")
        await site.wait_for(lambda m: m.get("type") == "participant-left"
                            and m.get("participant") == whip_participant,
                            timeout=10, what="participant-left of the WHIP presenter")
        r = await loop.run_in_executor(None, presenter.delete, t_host)
        check(r.status == 404, "DELETE again: 404 (%d)" % r.status)

        # ---- a WHIP client that vanishes without a DELETE (OBS killed, the
        # studio's link cut): it stops answering caud's RFC 7675 consent
        # checks, and about 30 s later caud ends the session by itself.
        t_ghost = login(caud, "specialist.thanhhoa")
        ghost = WhipClient(whip_url, t_ghost, log=log)
        clients.append(ghost)
        seen = {m["participant"]["id"] for m in site.received
                if m.get("type") == "participant-joined"}
        r = await loop.run_in_executor(None, ghost.publish)
        check(r.status == 201, "another WHIP session: 201 (%d %s)" % (r.status, r.body[:200]))
        m = await site.wait_for(lambda m: m.get("type") == "participant-joined"
                                and m["participant"]["id"] not in seen,
                                timeout=10, what="participant-joined of the second WHIP session")
        ghost_id = m["participant"]["id"]
        await site.wait_for(lambda m: m.get("type") == "track-added"
                            and m.get("participant") == ghost_id,
                            timeout=20, what="track-added of the second WHIP session")
        await asyncio.sleep(3)
        ghost.stop()    # the pipeline stops; no DELETE, no ICE or DTLS goodbye
        t0 = loop.time()
        await site.wait_for(lambda m: m.get("type") == "participant-left"
                            and m.get("participant") == ghost_id,
                            timeout=55, what="participant-left of the vanished WHIP client")
        elapsed = loop.time() - t0
        log("the vanished WHIP session ended %.1f s after its client stopped" % elapsed)
        check(20 <= elapsed <= 45,
              "it ended on the consent timeout (%.1f s after the client stopped, window 20-45)"
              % elapsed)
        r = await loop.run_in_executor(None, ghost.delete)
        check(r.status == 404, "its resource is gone: DELETE 404 (%d)" % r.status)

        # ---- an ended briefing
        status, _ = http_json(caud, "POST", "/api/briefings/%s/end" % bid, t_host)
        check(status == 200, "briefing ended")
        r = post(whip_url, t_host, presenter.offer)
        check(r.status == 410, "WHIP into an ended briefing: 410 (%d)" % r.status)
    finally:
        for c in clients:
            c.stop()
        for p in peers:
            p.stop()
        for s in sigs:
            await s.close()
        caud.stop()
        if caud.crashed:
            raise TestFailure(caud.crashed)


if __name__ == "__main__":
    run_test(main, needs_caud=False, deadline=290)
