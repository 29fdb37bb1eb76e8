"""The lean loop: the steps of an instance nobody samples or steers right now (the hot path).

Per step it does the agent's forward, the env's step, a clock read and a look at the inbox's
doorbell (`ports.bus.CommandDoorbell`: a memory read), plus the recording's append when one
runs. It asks the inbox for commands only when the doorbell rang, or, for an inbox without
one, every `COMMAND_POLL_EVERY_SECONDS`; it leaves for the housekeeping, the next sample an
observer wants, a budget, or a command.

Why a doorbell at every step rather than a look on a timer: the look itself is cheap (about
a microsecond), but code that runs every half millisecond between the agent's steps slowed
the agent's own forward and env step by more than it cost (1-1.5 points of a torch agent's
steps/s, measured in the worker's process; see docs/performance.md). A memory read at every
step costs less, and a command is taken at the next step rather than within half a
millisecond.
"""

from __future__ import annotations

from collections.abc import Callable

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.ports.bus import CommandInbox
from ainimal_zookeeper.sdk.timestep import Timestep
from ainimal_zookeeper.worker.control import RunControl
from ainimal_zookeeper.worker.episodes import Episodes
from ainimal_zookeeper.worker.housekeeping import Housekeeping
from ainimal_zookeeper.worker.recording_session import RecordingSession
from ainimal_zookeeper.worker.sampling import TelemetrySampling
from ainimal_zookeeper.worker.user_code import UserCodeFailed, describe

#: An inbox without a doorbell is asked this often, so commands apply within half a millisecond.
COMMAND_POLL_EVERY_SECONDS = 0.0005


class _SilentDoorbell:
    """The doorbell of an inbox that has none: it never rings (the loop looks on a timer)."""

    count = (0,)
    received = 0


SILENT = _SilentDoorbell()


class LeanLoop:
    """Steps until something other than stepping is due; the caller then polls (`run` says what came)."""

    def __init__(
        self,
        episodes: Episodes,
        control: RunControl,
        inbox: CommandInbox,
        recording: RecordingSession,
        housekeeping: Housekeeping,
        sampling: TelemetrySampling,
        end_episode: Callable[[bool], bool],
        clock: Callable[[], float],
    ) -> None:
        """`end_episode(learns)` closes an episode and resets the env; True when that spent the episode budget."""
        self.episodes, self.control, self.inbox = episodes, control, inbox
        self.recording, self.housekeeping, self.sampling = recording, housekeeping, sampling
        self.end_episode, self.clock = end_episode, clock

    def run(self, next_poll: float) -> list[cmd.Command]:
        """Step until housekeeping, a sample, a budget or a command is due; the commands received.

        `next_poll`: when an inbox without a doorbell is to be asked next."""
        # The counters and the observation live in locals while it steps (cheaper than
        # attributes, every step) and go back to `Episodes` (`sync`) before anything reads them;
        # the step count, which the AInimal's own metrics read, goes back at every step.
        book, clock = self.episodes, self.clock
        assert book.env is not None
        forward, env_step, learns = book.agent.forward, book.env.step, self.control.mode.learns
        receive, end_episode = self.inbox.receive, self.end_episode
        recorder = self.recording.recorder
        record = recorder.buffer.add if recorder is not None else None
        record_state = self.recording.record_state
        step_limit = self.housekeeping.budgets.step_limit
        # Leave the loop for the next sample an observer wants, or the next housekeeping.
        leave_at = min(self.housekeeping.due, self.sampling.leases.next_sample)
        bell = self.inbox.doorbell or SILENT
        count, timed = bell.count, bell is SILENT
        # Without a doorbell it looks on a timer and leaves at the first look past `leave_at`;
        # with one it looks when the bell rang, and leaves at `leave_at`.
        next_look = next_poll if timed else leave_at
        step, length, total, observation = book.step_count, book.episode_length, book.episode_return, book.observation
        received: list[cmd.Command] = []
        try:
            while True:
                try:
                    outputs = forward({"observation": observation})
                    action = outputs["action"]
                except Exception as exc:
                    raise UserCodeFailed(f"forward raised {describe(exc)}") from exc
                try:
                    next_obs, reward, terminated, truncated, info = env_step(action)
                except Exception as exc:
                    raise UserCodeFailed(f"env.step raised {describe(exc)}") from exc
                step += 1  # `Episodes.counted`, on locals
                # ...but the step count also at once, for the metrics the AInimal logs from its
                # next `forward` (`AInimal.log` reads it); one attribute store, about 20 ns.
                book.step_count = step
                length += 1
                total += reward
                ended = terminated or truncated
                if learns:  # training reads the counters (metric points): they go back first
                    book.sync(step, length, total, observation)
                    book.learn(
                        Timestep(observation, action, float(reward), bool(terminated), bool(truncated), next_obs, info)
                    )
                if record is not None:
                    last = next_obs if ended else None  # the observation that ended the episode
                    record(
                        step, book.episode, book.episode_seed, observation, outputs, reward, terminated, truncated, last
                    )
                    if record_state is not None:
                        record_state()
                observation = next_obs
                if ended:
                    book.sync(step, length, total, observation)
                    if end_episode(learns):  # resets the env; True: an episode budget is spent
                        break
                    length, total, observation = 0, 0.0, book.observation
                if step >= step_limit:
                    break
                now = clock()
                # A command waits, or is on its way (it asks again at each step until it comes; the
                # inbox forgets a ring no message follows), or it is time to look or to leave.
                if now >= next_look or count[0] != bell.received:
                    if now >= leave_at:
                        break
                    received = receive(0.0)
                    if received:
                        break
                    next_look = now + COMMAND_POLL_EVERY_SECONDS if timed else leave_at
        finally:
            book.sync(step, length, total, observation)
        return received
