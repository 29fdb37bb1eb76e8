"""Sign-ins in flight are kept in the DocumentStore, used once, and swept when abandoned."""

from __future__ import annotations

import pytest
from oauth_stand_in import REDIRECT_URI

from ainimal_zookeeper.auth.oauth_state import DocumentStates, MemoryStates
from ainimal_zookeeper.errors import Unauthenticated
from ainimal_zookeeper.ports.identity import STATE_TTL_SECONDS, PendingSignIn


def pending(expires_at: float) -> PendingSignIn:
    return PendingSignIn("github", "verifier", REDIRECT_URI, expires_at)


def test_abandoned_sign_ins_are_swept(documents):
    now = [1000.0]
    states = DocumentStates(documents, clock=lambda: now[0])
    states.save("old", PendingSignIn("github", "v", REDIRECT_URI, 1500.0))
    states.save("new", PendingSignIn("github", "v", REDIRECT_URI, 2500.0))
    now[0] = 2000.0
    assert states.sweep() == 1 and len(documents.find("oauth_states")) == 1


@pytest.mark.parametrize("kind", ["documents", "memory"])
def test_a_pending_sign_in_is_taken_once_and_never_stored_under_its_state(documents, kind):
    states = DocumentStates(documents) if kind == "documents" else MemoryStates()
    states.save("the-state", pending(expires_at=4e9))
    assert "the-state" not in repr(documents.find("oauth_states"))
    assert states.take("the-state").code_verifier == "verifier"
    with pytest.raises(Unauthenticated, match="used already"):
        states.take("the-state")


@pytest.mark.parametrize("kind", ["documents", "memory"])
def test_a_sign_in_past_its_lifetime_is_refused(documents, kind):
    now = [1000.0]
    states = DocumentStates(documents, clock=lambda: now[0]) if kind == "documents" else MemoryStates(lambda: now[0])
    states.save("s", pending(expires_at=now[0] + STATE_TTL_SECONDS))
    now[0] += STATE_TTL_SECONDS + 1
    with pytest.raises(Unauthenticated, match="expired"):
        states.take("s")


def test_every_so_many_saves_sweep_the_expired_ones_without_being_asked(documents):
    now = [1000.0]
    states = DocumentStates(documents, clock=lambda: now[0])
    for index in range(DocumentStates.SWEEP_EVERY - 1):
        states.save(f"abandoned-{index}", pending(expires_at=now[0] + STATE_TTL_SECONDS))
    now[0] += 3 * STATE_TTL_SECONDS  # several lifetimes later
    assert len(documents.find("oauth_states")) == DocumentStates.SWEEP_EVERY - 1
    states.save("fresh", pending(expires_at=now[0] + STATE_TTL_SECONDS))  # the 64th save sweeps
    assert len(documents.find("oauth_states")) == 1
    assert states.take("fresh").provider == "github"


def test_the_in_process_states_forget_expired_ones_as_new_ones_come(documents):
    now = [1000.0]
    states = MemoryStates(lambda: now[0])
    states.save("old", pending(expires_at=now[0] + STATE_TTL_SECONDS))
    now[0] += 2 * STATE_TTL_SECONDS
    states.save("new", pending(expires_at=now[0] + STATE_TTL_SECONDS))
    assert len(states._pending) == 1  # the abandoned one did not pile up
