import { describe, expect, it } from "vitest";
import { can, canAdminister, isSignedIn } from "../src/lib/permissions";
import { ANONYMOUS, OPEN, OPERATOR, VIEWER_ROLE, viewer } from "./helpers";

describe("can", () => {
  it("lets everybody do everything on an open server", () => {
    for (const action of ["view", "launch", "control", "train", "manage"] as const) {
      expect(can(OPEN, action)).toBe(true);
      expect(can(OPEN, action, { kind: "instance", id: "x" })).toBe(true);
    }
  });

  it("answers no when the permissions are missing", () => {
    expect(can(null, "view")).toBe(false);
    expect(can(undefined, "launch", { kind: "model", id: "m" })).toBe(false);
  });

  it("reads what a role may do to every resource of a kind", () => {
    expect(can(VIEWER_ROLE, "view", { kind: "instance", id: "a" })).toBe(true);
    expect(can(VIEWER_ROLE, "control", { kind: "instance", id: "a" })).toBe(false);
    expect(can(VIEWER_ROLE, "launch", { kind: "model", id: "m" })).toBe(false);
    expect(can(OPERATOR, "launch", { kind: "model", id: "m" })).toBe(true); // "*" means every action
  });

  it("lets owners control their own instances only", () => {
    const user = {
      ...VIEWER_ROLE,
      username: "ulla",
      roles: ["user"],
      global: { model: ["view", "launch"], environment: ["view", "launch"], instance: [], user: [] },
      owned: { instance: ["view", "inspect", "control", "override"] },
      launch: true,
      control: true,
      override: true,
      inspect: true,
    };
    expect(can(user, "control", { kind: "instance", id: "a", owner: "ulla" })).toBe(true);
    expect(can(user, "control", { kind: "instance", id: "b", owner: "someone" })).toBe(false);
    expect(can(user, "view", { kind: "instance", id: "b", owner: "someone" })).toBe(false);
  });

  it("lets anybody watch a public instance and nothing more", () => {
    expect(can(ANONYMOUS, "view", { kind: "instance", id: "p", public: true })).toBe(true);
    expect(can(ANONYMOUS, "view", { kind: "instance", id: "q", public: false })).toBe(false);
    expect(can(ANONYMOUS, "override", { kind: "instance", id: "p", public: true })).toBe(false);
  });

  it("adds per-resource grants, and wildcard grants", () => {
    const granted = {
      ...VIEWER_ROLE,
      control: true,
      record: true,
      grants: [
        { kind: "instance", id: "abc", actions: ["control"] },
        { kind: "instance", id: "*", actions: ["record"] },
      ],
    };
    expect(can(granted, "control", { kind: "instance", id: "abc" })).toBe(true);
    expect(can(granted, "control", { kind: "instance", id: "other" })).toBe(false);
    expect(can(granted, "record", { kind: "instance", id: "other" })).toBe(true);
  });

  it("trusts the per-action booleans of a server that sends nothing else", () => {
    const flat = { view: true, launch: false };
    expect(can(flat, "view", { kind: "instance", id: "a" })).toBe(true);
    expect(can(flat, "launch", { kind: "model", id: "m" })).toBe(false);
  });
});

describe("who is signed in", () => {
  it("counts the open server's local operator and named users, not anonymous viewers", () => {
    expect(isSignedIn(viewer(OPEN))).toBe(true);
    expect(isSignedIn(viewer(VIEWER_ROLE))).toBe(true);
    expect(isSignedIn(viewer(ANONYMOUS))).toBe(false);
  });

  it("offers administration only to those who may see users, never on an open server", () => {
    expect(canAdminister(OPEN)).toBe(false);
    expect(canAdminister(VIEWER_ROLE)).toBe(false);
    expect(canAdminister(OPERATOR)).toBe(true);
  });
});
