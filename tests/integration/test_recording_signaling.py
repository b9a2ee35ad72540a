#!/usr/bin/python3
"""Recording through caud's signaling, end to end with real WebRTC peers.

caud starts in demo mode (CAU_DEMO_PASSWORD, test only) so that the demo
consultation of clinician.dongson with specialist.thanhhoa exists.  The
clinician records the patient's consent over REST; both join the
consultation room with their tokens and publish aiortc audio + video; the
clinician sends `record start`, both see `recording-started`; after ~6 s
`record stop`, both see `recording-stopped` (reason stopped).  Then, over
HTTPS: the consultation's recordings list two participant files and one
composed file, all complete with a SHA-256, the composed one after its
progress reached 100; a playback ticket streams the composed file with
Range (206, EBML magic first) and the whole file decodes with
gst-discoverer-1.0 as video and audio lasting a few seconds.

Then a second recording is cut by `kill -9` of caud; a caud restarted on
the same data directory marks its rows interrupted and fills their SHA-256
from what was written, the interrupted participant file still plays, and
the restarted caud composes the cut files by itself.

Then a third recording is stopped and caud is stopped (SIGTERM) while it
composes it: caud must exit 0 after cancelling the composition, and the
next start finds both participant files complete and playable and
composes them again by itself.  Last, caud is stopped (SIGTERM) in the
middle of a fourth recording: its files must be closed whole and their
rows filed complete before caud exits, and the next start composes them.

Exit 0 pass, 1 fail, 77 skip (caud not built).
"""

import asyncio
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import sys

from cauharness import (SKIP, Caud, Signaling, TestFailure, caud_path, check, insecure_ssl,
                        log, run_test)
from peers_aiortc import publish

DEMO_PASSWORD = "test-only-demo-pw"


def http(caud, method, path, token=None, body=None, headers=None, timeout=20):
    url = "https://127.0.0.1:%d%s" % (caud.port, path)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, context=insecure_ssl(), timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def http_json(caud, method, path, token=None, body=None):
    status, _, raw = http(caud, method, path, token, body)
    return status, (json.loads(raw) if raw else None)


def login(caud, username):
    status, answer = http_json(caud, "POST", "/api/auth/login", None,
                               {"username": username, "password": DEMO_PASSWORD})
    check(status == 200, "login %s" % username)
    return answer["token"]


async def join(caud, name, room, token):
    sig = await Signaling(caud.ws_url, name).connect()
    r = await sig.request({"type": "join", "room": room, "name": name, "token": token})
    if r.get("type") != "joined":
        raise TestFailure("%s: join refused: %s" % (name, r))
    sig.participant = r["participant"]
    return sig, r


async def wait_rows(caud, token, consultation, pred, timeout, what):
    deadline = time.monotonic() + timeout
    rows = None
    while time.monotonic() < deadline:
        status, rows = http_json(caud, "GET", "/api/consultations/%s/recordings" % consultation,
                                 token)
        if status == 200 and pred(rows):
            return rows
        await asyncio.sleep(0.5)
    raise TestFailure("%s: rows now %s" % (what, json.dumps(rows)))


_DISCOVER = """
import sys, gi
gi.require_version("Gst", "1.0")
gi.require_version("GstPbutils", "1.0")
from gi.repository import Gst, GstPbutils
Gst.init(None)
info = GstPbutils.Discoverer.new(30 * Gst.SECOND).discover_uri(Gst.filename_to_uri(sys.argv[1]))
print("duration", info.get_duration() / Gst.SECOND)
for s in info.get_stream_list():
    print("stream", s.get_stream_type_nick(), s.get_caps().to_string() if s.get_caps() else "")
"""


def discover(path):
    """GStreamer's discoverer on @path (in a child: GStreamer stays out of
    the asyncio process): "duration S" and one "stream TYPE CAPS" per stream."""
    p = subprocess.run(["/usr/bin/python3", "-c", _DISCOVER, path], capture_output=True,
                       timeout=90)
    out = p.stdout.decode("utf-8", "replace")
    log("discoverer: %s %s" % (out.strip().replace("\n", " | "),
                               p.stderr.decode("utf-8", "replace")[-300:]))
    return out


def discover_bytes(whole):
    """discover() on a decrypted file held in memory: (report, seconds)."""
    with tempfile.NamedTemporaryFile(suffix=".webm") as f:
        f.write(whole)
        f.flush()
        report = discover(f.name)
    return report, duration_seconds(report)


def duration_seconds(report):
    m = re.search(r"^duration ([0-9.]+)$", report, re.M)
    return float(m.group(1)) if m else None


async def record_call(caud, consultation, t_doctor, t_expert, seconds, stop=True):
    doctor, joined = await join(caud, "doctor", consultation, t_doctor)
    check(joined.get("recording") is None, "joined says nothing is recorded")
    expert, _ = await join(caud, "expert", consultation, t_expert)
    pcs = [(await publish(doctor))[0], (await publish(expert))[0]]
    await asyncio.sleep(2)
    r = await doctor.request({"type": "record", "action": "start"})
    check(r.get("type") == "ok", "record start answered ok (%s)" % r.get("type"))
    started = await doctor.wait_for("recording-started")
    await expert.wait_for("recording-started")
    recording = started["recording"]
    await asyncio.sleep(seconds)
    if stop:
        r = await doctor.request({"type": "record", "action": "stop"})
        check(r.get("type") == "ok", "record stop answered ok")
        for sig in (doctor, expert):
            m = await sig.wait_for("recording-stopped")
            check(m.get("reason") == "stopped" and m.get("recording") == recording,
                  "%s told the recording stopped" % sig.name)
    return recording, doctor, expert, pcs


async def sigterm_cleanly(caud, what, sigs, pcs):
    """Stops @caud with SIGTERM while it @what, closes the peers, and checks
    that it exited 0 without a crash report."""
    log("SIGTERM caud pid %d while it %s" % (caud.proc.pid, what))
    caud.stop()
    await close_all(sigs, pcs)
    check(caud.crashed is None and caud.proc.returncode == 0,
          "caud stopped cleanly while it %s (exit %s, %s)"
          % (what, caud.proc.returncode, caud.crashed))


def fetch_playback(caud, token, row_id, what):
    """The decrypted file of recording row @row_id, through a playback
    ticket; checks that it streams from its EBML header."""
    status, ticket = http_json(caud, "POST", "/api/recordings/%s/playback" % row_id, token)
    check(status == 200, "%s may be played" % what)
    status, _, whole = http(caud, "GET", ticket["url"], timeout=60)
    check(status == 200 and whole[:4] == b"\x1a\x45\xdf\xa3",
          "%s streams from its EBML header (%d bytes)" % (what, len(whole)))
    return whole


async def composed_again(caud, token, consultation, recording, what, short_ms=500):
    """Checks that @caud, just started, composes @recording again by itself,
    that the composed row lasts at least as long as the longest participant
    file (less @short_ms) and that the composed file plays as video and
    audio."""
    check(any("recording %s: composing its 2 file(s) again" % recording in line
              for line in caud.lines),
          "caud composes the %s again at its start" % what)
    rows = await wait_rows(
        caud, token, consultation,
        lambda rows: any(r["recording"] == recording and r["kind"] == "composed"
                         and r["status"] == "complete" for r in rows),
        120, "the %s's composition complete after the restart" % what)
    composed = [r for r in rows if r["recording"] == recording and r["kind"] == "composed"][0]
    longest = max(r["duration_ms"] for r in rows
                  if r["recording"] == recording and r["kind"] == "participant")
    check(re.fullmatch("[0-9a-f]{64}", composed["sha256"] or "")
          and composed["compose_progress"] is None,
          "the %s's composed row has its SHA-256, no progress left" % what)
    # The composed file spans from the first participant file's first
    # packet to the last one's last; the files start up to a second or so
    # apart (more under ASan).
    check(longest >= 2000 and longest - short_ms <= composed["duration_ms"] <= longest + 2000,
          "the %s's composed file lasts %d ms, its longest participant file %d ms"
          % (what, composed["duration_ms"], longest))
    report, got = discover_bytes(fetch_playback(caud, token, composed["id"],
                                                "the %s's composed file" % what))
    log("gst-discoverer (%s, composed after the restart): duration %s" % (what, got))
    check("stream video" in report and "stream audio" in report,
          "the %s's composed file has video and audio" % what)


def restart(data_dir):
    """A caud on @data_dir (no demo seeding) and the clinician's token."""
    caud = Caud(extra_args=["--data-dir", data_dir], env={"CAU_DEMO_PASSWORD": DEMO_PASSWORD})
    caud.start()
    return caud, login(caud, "clinician.dongson")


async def close_all(sigs, pcs):
    for pc in pcs:
        await pc.close()
    for sig in sigs:
        await sig.close()


async def main(_unused):
    env = {"CAU_DEMO_PASSWORD": DEMO_PASSWORD, "CAU_RECORDING_MIN_FREE_MB": "64"}
    caud = Caud(extra_args=["--demo", "on"], env=env).start()
    data_dir = os.path.join(caud.tmp, "data")
    try:
        t_doctor = login(caud, "clinician.dongson")
        t_expert = login(caud, "specialist.thanhhoa")
        status, worklist = http_json(caud, "GET", "/api/consultations", t_doctor)
        check(status == 200 and worklist, "the clinician's worklist")
        consultation = worklist[0]["id"]
        patient = worklist[0]["patient_id"]
        status, _ = http_json(caud, "POST", "/api/patients/%s/consents" % patient, t_doctor,
                              {"purpose": "recording", "granted": True, "method": "verbal",
                               "consultation_id": consultation})
        check(status == 201, "verbal recording consent filed")

        recording, doctor, expert, pcs = await record_call(caud, consultation, t_doctor,
                                                           t_expert, 6)
        rows = await wait_rows(
            caud, t_doctor, consultation,
            lambda rows: len(rows) == 3 and all(r["status"] == "complete" for r in rows),
            120, "two participant files and the composed one complete")
        for r in rows:
            check(r["recording"] == recording and re.fullmatch("[0-9a-f]{64}", r["sha256"] or ""),
                  "%s row %s has its SHA-256" % (r["kind"], r["id"]))
        kinds = sorted(r["kind"] for r in rows)
        check(kinds == ["composed", "participant", "participant"], "kinds %s" % kinds)
        names = sorted(r["participant_name"] or "" for r in rows if r["kind"] == "participant")
        check(names == ["BS Demo Đông Sơn", "CK Demo Thanh Hóa"] or len(names) == 2,
              "participant names %s" % names)
        composed = [r for r in rows if r["kind"] == "composed"][0]
        check(composed["compose_progress"] is None, "composition finished")

        status, ticket = http_json(caud, "POST", "/api/recordings/%s/playback" % composed["id"],
                                   t_expert)
        check(status == 200, "playback ticket for the care team")
        status, headers, head = http(caud, "GET", ticket["url"], headers={"Range": "bytes=0-3"})
        check(status == 206 and head == b"\x1a\x45\xdf\xa3", "range 0-3 is the EBML magic")
        status, headers, whole = http(caud, "GET", ticket["url"], timeout=60)
        check(status == 200 and len(whole) > 10000, "the composed file streams (%d bytes)"
              % len(whole))
        report, seconds = discover_bytes(whole)
        log("gst-discoverer: duration %s" % seconds)
        check("stream video" in report and "stream audio" in report,
              "the composed file has video and audio")
        check(seconds is not None and 3.0 <= seconds <= 20.0,
              "the composed file lasts a few seconds (%s)" % seconds)
        await close_all([doctor, expert], pcs)

        # A second recording, cut by kill -9.
        recording2, doctor, expert, pcs = await record_call(caud, consultation, t_doctor,
                                                            t_expert, 5, stop=False)
        log("kill -9 caud pid %d" % caud.proc.pid)
        os.kill(caud.proc.pid, signal.SIGKILL)
        caud.proc.wait(10)
        for sig in (doctor, expert):
            try:
                await asyncio.wait_for(sig.close(), 5)
            except Exception:
                pass
        for pc in pcs:
            await pc.close()
    except BaseException:
        caud.dump_log()
        caud.stop()
        raise

    caud2 = Caud(extra_args=["--data-dir", data_dir], env={"CAU_DEMO_PASSWORD": DEMO_PASSWORD})
    caud2.start()
    try:
        check(any("marked interrupted" in line for line in caud2.lines),
              "caud says it marked the cut files interrupted")
        t_doctor = login(caud2, "clinician.dongson")
        status, rows = http_json(caud2, "GET", "/api/consultations/%s/recordings" % consultation,
                                 t_doctor)
        cut = [r for r in rows if r["recording"] == recording2 and r["kind"] == "participant"]
        check(len(cut) == 2 and all(r["status"] == "interrupted" for r in cut),
              "the cut recording's participant rows are interrupted (%s)"
              % [r["status"] for r in cut])
        files = [r for r in cut if r["sha256"]]
        check(len(files) == 2, "both interrupted participant files got their SHA-256")
        whole = fetch_playback(caud2, t_doctor, files[0]["id"], "the interrupted file")
        report, seconds = discover_bytes(whole)
        log("gst-discoverer (interrupted): duration %s" % seconds)
        # How much of it plays is test_recording_kill's to measure (rec5);
        # here: it is found, decrypted and recognised as a recording.
        check("stream video" in report and "stream audio" in report,
              "the interrupted file is recognised as video and audio")
        # The start composes the cut files, up to their last whole chunk (the
        # recovered duration counts to the file's last write, in seconds).
        await composed_again(caud2, t_doctor, consultation, recording2, "cut recording",
                             short_ms=2500)

        # A third recording, stopped; caud is stopped (SIGTERM) while it
        # composes it.  The shutdown must be clean (before the fix the
        # composition thread called OpenSSL after its exit-time cleanup).
        t_expert = login(caud2, "specialist.thanhhoa")
        recording3, doctor, expert, pcs = await record_call(caud2, consultation, t_doctor,
                                                            t_expert, 6)
        await wait_rows(
            caud2, t_doctor, consultation,
            lambda rows: any(r["recording"] == recording3 and r["kind"] == "composed"
                             and r["compose_progress"] is not None for r in rows),
            60, "the third recording's composition started")
        await sigterm_cleanly(caud2, "composes %s" % recording3, [doctor, expert], pcs)
        check(any("composition of %s cancelled" % recording3 in line for line in caud2.lines),
              "caud cancelled the running composition")
    except BaseException:
        caud2.dump_log()
        raise
    finally:
        caud2.stop()
        caud.stop()

    # The next start finds the participants' files complete and composes
    # them again by itself (the cancelled composition left no file).
    caud3, t_doctor = restart(data_dir)
    try:
        status, rows = http_json(caud3, "GET", "/api/consultations/%s/recordings" % consultation,
                                 t_doctor)
        third = [r for r in rows if r["recording"] == recording3]
        log("third recording's rows after the restart: %s"
            % [(r["kind"], r["status"], r["sha256"] is not None) for r in third])
        parts = [r for r in third if r["kind"] == "participant"]
        check(len(parts) == 2 and all(r["status"] == "complete" and r["sha256"] for r in parts),
              "both participant files of the third recording are complete")
        fetch_playback(caud3, t_doctor, parts[0]["id"], "a participant file of the third recording")
        await composed_again(caud3, t_doctor, consultation, recording3, "third recording")

        # A fourth recording, and caud stopped (SIGTERM) while it records:
        # the shutdown closes each file with its final chunk before caud
        # exits (before, the threads closing them died with the process and
        # the files were cut).
        t_expert = login(caud3, "specialist.thanhhoa")
        recording4, doctor, expert, pcs = await record_call(caud3, consultation, t_doctor,
                                                            t_expert, 4, stop=False)
        await sigterm_cleanly(caud3, "records %s" % recording4, [doctor, expert], pcs)
        check(any("recording=%s] 2 file(s) closed; composition left to the next start"
                  % recording4 in line for line in caud3.lines),
              "at its stop caud filed both files and left the composition to the next start")
    except BaseException:
        caud3.dump_log()
        raise
    finally:
        caud3.stop()

    caud4, t_doctor = restart(data_dir)
    try:
        status, rows = http_json(caud4, "GET", "/api/consultations/%s/recordings" % consultation,
                                 t_doctor)
        parts = [r for r in rows if r["recording"] == recording4 and r["kind"] == "participant"]
        check(len(parts) == 2 and all(r["status"] == "complete" and r["sha256"]
                                      and r["duration_ms"] >= 2000 for r in parts),
              "the fourth recording's participant rows are complete, with their SHA-256 and"
              " duration, filed at the shutdown (%s)"
              % [(r["status"], r["sha256"] is not None, r["duration_ms"]) for r in parts])
        check(not any("recording %s: interrupted;" % r["id"] in line
                      for r in parts for line in caud4.lines),
              "the restart had nothing of the fourth recording to recover")
        await composed_again(caud4, t_doctor, consultation, recording4, "fourth recording")
    except BaseException:
        caud4.dump_log()
        raise
    finally:
        caud4.stop()


if __name__ == "__main__":
    if caud_path() is None:
        log("SKIP: caud is not built")
        sys.exit(SKIP)
    run_test(main, needs_caud=False, deadline=400)
