// @vitest-environment happy-dom
import { cleanup, render, screen } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";
import { GitCell } from "../src/components/Checkpoints";
import type { Checkpoint } from "../src/lib/queries";

afterEach(cleanup);

const saved: Checkpoint = {
  id: "c1",
  tag: "early",
  step: 10,
  episode: 1,
  createdAt: "2026-12-05T00:00:00+00:00",
  metrics: {},
  sizeBytes: 100,
  parent: null,
  gitTag: null,
  gitCommit: null,
  gitPushed: null,
  gitError: null,
};

describe("a checkpoint's place in its model's git graph", () => {
  it("shows the tag, its commit on hover, and whether it was pushed", () => {
    render(<GitCell checkpoint={{ ...saved, gitTag: "early", gitCommit: "abc123", gitPushed: true }} />);
    expect(screen.getByText("early").tagName).toBe("CODE");
    expect(screen.getByText("pushed")).toBeTruthy();
    expect(screen.getByTitle("abc123")).toBeTruthy();
  });

  it("says a checkpoint that could not be tagged is not, with the reason on hover", () => {
    render(<GitCell checkpoint={{ ...saved, gitError: "push refused by zoo" }} />);
    expect(screen.getByTitle("push refused by zoo").textContent).toBe("not tagged");
  });

  it("shows nothing for a model outside any git graph", () => {
    const { container } = render(<GitCell checkpoint={saved} />);
    expect(container.textContent).toBe("–");
  });
});
