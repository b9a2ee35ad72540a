"""Shared steps of the relay tests: who is caud on the wire."""

from cauharness import candidate_addr, sdp_candidates


def caud_media_addrs(sig, *sdps):
    """Every (ip, port) caud announced to this client: candidates in the
    SDPs it sent and in its trickle messages."""
    out = set()
    for sdp in sdps:
        if sdp:
            out.update((c[0], c[1]) for c in sdp_candidates(sdp))
    for m in sig.received:
        if isinstance(m, dict) and m.get("type") == "trickle":
            c = m.get("candidate")
            if isinstance(c, dict):
                a = candidate_addr(c.get("candidate"))
                if a:
                    out.add(a)
    return out


def connection_states(sig, pc):
    return [m.get("state") for m in sig.received
            if isinstance(m, dict) and m.get("type") == "connection-state" and m.get("pc") == pc]
