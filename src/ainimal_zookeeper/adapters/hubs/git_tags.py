"""Checkpoints as tags: commit a checkpoint folder on a model's repository, tag it, push the tag.

The zookeeper keeps one working clone per model (under the hub's cache folder). A checkpoint
is committed with plumbing (a temporary index, `commit-tree`) on top of the commit it descends
from, so no branch of the clone or of the remote ever moves: only the annotated tag, and the
objects it needs, are pushed. The identity is set here, never taken from the user's git config.
Git LFS is used for the checkpoint's large files only when the model's repository already uses
it (a `.gitattributes` with `filter=lfs` at the base commit) and git-lfs is installed.

The working clone holds the repository's history, which a listing never fetched (it takes one
commit), so its clone and fetches are watched against the hub's bound like a model's fetch
(`max_model_mb`): a repository whose history is larger cannot be tagged, and says so.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from pathlib import Path

from ainimal_zookeeper.adapters.hubs.cache import FetchBound, ModelTooLarge, safe_part
from ainimal_zookeeper.adapters.hubs.git_repo import GitClient, check_revision
from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound, Unavailable
from ainimal_zookeeper.ports.model_hubs import CHECKPOINT_DIR, GitTag

#: Who commits and tags checkpoints (never the user's global git identity).
IDENTITY = ("AInimal Zookeeper", "zookeeper@localhost")
#: Files at least this large go to LFS when the repository uses LFS.
LFS_MIN_BYTES = 1 << 20
#: Where the working clone keeps the remote's tags.
_REMOTE_TAGS = "refs/zookeeper/remote-tags/"
_SHA = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
#: Characters git refuses in a ref name, plus whitespace (check-ref-format has the last word).
_BAD_TAG_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
_NO_SIGNING = ["-c", "commit.gpgSign=false", "-c", "tag.gpgSign=false", "-c", "tag.forceSignAnnotated=false"]


def check_tag_name(git: GitClient, tag: str) -> str:
    """The tag if git accepts it as a tag name (check-ref-format's rules); InvalidInput otherwise."""
    expected = "expected a git tag name such as 'v1' or 'run-3/step-1000' (no spaces, '..', '~^:?*[\\', '@{')"
    if not tag or len(tag) > 200 or tag.startswith("-") or _BAD_TAG_CHARS.search(tag):
        raise InvalidInput(f"checkpoint tag {tag!r} is not a valid git tag name; {expected}")
    try:
        git.run(["check-ref-format", f"refs/tags/{tag}"], what="tag name")
    except Unavailable:
        raise InvalidInput(f"checkpoint tag {tag!r} is not a valid git tag name; {expected}") from None
    return tag


class GitTagger:
    """Tags and pushes checkpoints of the models of one hub, each in its own working clone."""

    def __init__(
        self, git: GitClient, clones: Path, label: str, *, push: bool, bound: FetchBound | None = None
    ) -> None:
        self.git, self.clones, self.label, self.push = git, clones, label, push
        self.bound = bound or FetchBound()
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def tag_and_push(self, url: str, model: str, base: str, folder: Path, tag: str, message: str) -> GitTag:
        """Commit `folder` as CHECKPOINT_DIR on `base`, tag it `tag`, push the tag when `push` is set."""
        check_tag_name(self.git, tag)
        if not _SHA.match(base):
            raise InvalidInput(f"model hub {self.label}: base {base!r} is not a commit id")
        what = f"model hub {self.label}"
        with self._model_lock(model):
            clone = self._clone(url, model, what)
            if self._has(clone, f"refs/tags/{tag}") or self._has(clone, f"{_REMOTE_TAGS}{tag}"):
                raise Conflict(f"tag {tag!r} already exists in {self.label} (model {model!r}); choose another tag")
            self._ensure_commit(clone, base, what, model)
            lfs = self._lfs_wanted(clone, base)
            commit = self._commit(clone, base, folder, message, lfs, what)
            self._run(clone, [*_NO_SIGNING, "tag", "-a", "-m", message, "--", tag, commit], what)
            pushed = False
            if self.push:
                try:
                    if lfs:
                        self._run(clone, ["lfs", "push", "origin", f"refs/tags/{tag}"], what)
                    self._run(
                        clone, ["push", "--quiet", "--no-verify", "origin", f"refs/tags/{tag}:refs/tags/{tag}"], what
                    )
                except Unavailable as exc:
                    # Forget the local tag: the same tag may be tried again once the remote allows it.
                    self._run(clone, ["tag", "-d", "--", tag], what)
                    raise Unavailable(f"model hub {self.label} refused tag {tag!r}: {_after_colon(str(exc))}") from None
                pushed = True
            return GitTag(tag, commit, base, pushed=pushed, lfs=lfs)

    def resolve_tag(self, url: str, model: str, revision: str) -> GitTag:
        """The commit `revision` names (and its first parent), from a fresh fetch of the remote."""
        what = f"model hub {self.label}"
        check_revision(revision)
        with self._model_lock(model):
            clone = self._clone(url, model, what)
            commit = ""
            # The remote's tags first (fresh from the fetch), then this clone's and any other name.
            for name in (f"{_REMOTE_TAGS}{revision}", f"refs/remotes/origin/{revision}", revision):
                if self._has(clone, f"{name}^{{commit}}"):
                    commit = self._run(clone, ["rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"], what).strip()
                    break
            if not commit:
                raise NotFound(f"{what}: no tag, branch or commit {revision!r} in model {model!r}")
            try:
                parent: str | None = self._run(clone, ["rev-parse", "--verify", "--quiet", f"{commit}^1"], what).strip()
            except Unavailable:
                parent = None  # the repository's first commit
            return GitTag(revision, commit, parent or None, pushed=True)

    # --- the working clone ---

    def _model_lock(self, model: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(model, threading.Lock())

    def _clone(self, url: str, model: str, what: str) -> Path:
        """The model's working clone, up to date with the remote's branches and tags."""
        clone = self.clones / safe_part(model)
        if not (clone / ".git").is_dir():
            shutil.rmtree(clone, ignore_errors=True)
            clone.mkdir(parents=True)
            self.git.calls += 1
            try:
                self._watched(clone, ["clone", "--quiet", "--no-checkout", "--no-tags", "--", url, "."], what, model)
            except ModelTooLarge:
                shutil.rmtree(clone, ignore_errors=True)  # nothing of a new clone is kept
                raise
        self.git.calls += 1
        # The remote's tags go to their own namespace: a tag kept only here (push: false) is never
        # clobbered, and a fetch never fails on a tag of the same name made elsewhere.
        refspecs = ["+refs/heads/*:refs/remotes/origin/*", f"+refs/tags/*:{_REMOTE_TAGS}*"]
        self._watched(clone, ["fetch", "--quiet", "--no-tags", "--prune", "origin", *refspecs], what, model)
        return clone

    def _watched(self, clone: Path, args: list[str], what: str, model: str) -> None:
        """Run git in the clone, stopped once the clone passes the hub's bound (history included).

        A fetch refused so into an existing clone leaves the clone as it was (it may hold tags
        kept only here, `push: false`): the refs it moved go back, and what it wrote goes (a
        partial pack, or a whole one when git finished between two measures)."""
        refs = self._refs(clone) if (clone / ".git").is_dir() else None
        try:
            self.git.run_watched(args, clone, what, self.bound, model)
        except ModelTooLarge:
            if refs is not None:
                self._roll_back(clone, refs, what)
            raise ModelTooLarge(
                f"{what}: the repository of model {model!r} with its history is larger than this hub allows "
                f"({self.bound.describe()}; the hub's max_model_mb setting), so no checkpoint can be tagged on it"
            ) from None

    def _refs(self, clone: Path) -> dict[str, str]:
        listed = self.git.run(["for-each-ref", "--format=%(refname) %(objectname)"], cwd=clone, what="git")
        return dict(line.split(" ", 1) for line in listed.splitlines() if " " in line)

    def _roll_back(self, clone: Path, before: dict[str, str], what: str) -> None:
        """Put the clone's refs back as `before` and drop every object no ref reaches any more."""
        after = self._refs(clone)
        for ref in after.keys() - before.keys():
            self.git.run(["update-ref", "-d", ref], cwd=clone, what=what)
        for ref, sha in before.items():
            if after.get(ref) != sha:
                self.git.run(["update-ref", ref, sha], cwd=clone, what=what)
        for partial in (clone / ".git" / "objects" / "pack").glob("tmp_*"):
            partial.unlink(missing_ok=True)
        self.git.run(["reflog", "expire", "--expire-unreachable=now", "--all"], cwd=clone, what=what)
        self.git.run(["gc", "--quiet", "--prune=now"], cwd=clone, what=what)

    def _has(self, clone: Path, ref: str) -> bool:
        try:
            self._run(clone, ["rev-parse", "--verify", "--quiet", ref], "git")
        except Unavailable:
            return False
        return True

    def _ensure_commit(self, clone: Path, base: str, what: str, model: str) -> None:
        if self._has(clone, f"{base}^{{commit}}"):
            return
        try:
            self._watched(clone, ["fetch", "--quiet", "origin", base], what, model)
        except ModelTooLarge:
            raise
        except Unavailable:
            raise NotFound(f"{what}: commit {base} is not in the model's repository") from None

    def _lfs_wanted(self, clone: Path, base: str) -> bool:
        try:
            attributes = self._run(clone, ["show", f"{base}:.gitattributes"], "git")
        except Unavailable:
            return False
        if "filter=lfs" not in attributes:
            return False
        try:
            self._run(clone, ["lfs", "version"], "git lfs")
            self._run(clone, ["lfs", "install", "--local", "--skip-smudge"], "git lfs")
        except Unavailable:
            return False  # the repository uses LFS but git-lfs is not installed here: plain git
        return True

    def _commit(self, clone: Path, base: str, folder: Path, message: str, lfs: bool, what: str) -> str:
        """A commit of base's tree with CHECKPOINT_DIR replaced by `folder`; no ref moves."""
        scratch = Path(tempfile.mkdtemp(prefix="zk-tag-"))
        try:
            stage = scratch / "tree"
            shutil.copytree(folder, stage / CHECKPOINT_DIR, symlinks=False)
            if lfs:
                _write_lfs_attributes(stage / CHECKPOINT_DIR)
            env = {"GIT_INDEX_FILE": str(scratch / "index"), **_identity_env()}
            self._run(clone, ["read-tree", base], what, env)
            self._run(clone, ["rm", "-r", "--cached", "--quiet", "--ignore-unmatch", "--", CHECKPOINT_DIR], what, env)
            self._run(clone, [f"--work-tree={stage}", "add", "--force", "--", CHECKPOINT_DIR], what, env)
            tree = self._run(clone, ["write-tree"], what, env).strip()
            return self._run(clone, [*_NO_SIGNING, "commit-tree", tree, "-p", base, "-m", message], what, env).strip()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _run(self, clone: Path, args: list[str], what: str, env: dict[str, str] | None = None) -> str:
        return self.git.run(args, cwd=clone, what=what, env={**_identity_env(), **(env or {})})


def _identity_env() -> dict[str, str]:
    name, email = IDENTITY
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def _write_lfs_attributes(checkpoint: Path) -> None:
    """Mark the checkpoint's large files for LFS (a `.gitattributes` inside the checkpoint folder)."""
    lines = []
    for path in sorted(p for p in checkpoint.rglob("*") if p.is_file()):
        relative = path.relative_to(checkpoint).as_posix()
        if path.stat().st_size >= LFS_MIN_BYTES and re.fullmatch(r"[A-Za-z0-9._/-]+", relative):
            lines.append(f"/{relative} filter=lfs diff=lfs merge=lfs -text\n")
    if lines:
        (checkpoint / ".gitattributes").write_text("".join(lines))


def _after_colon(message: str) -> str:
    """A GitClient error without its "model hub X:" prefix (the caller names the hub itself)."""
    return message.split(": ", 1)[1] if ": " in message else message
