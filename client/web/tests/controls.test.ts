import { describe, expect, it } from "vitest";
import { availableControls, type ControlledInstance } from "../src/lib/controls";
import { ANONYMOUS, OPEN, OPERATOR, VIEWER_ROLE } from "./helpers";

const cartpole: ControlledInstance = {
  id: "i1",
  owner: "otto",
  status: "RUNNING",
  mode: "TRAIN",
  modes: ["INFER", "TRAIN", "BOTH", "NONE"],
  model: { name: "Reinforce", trainable: true, checkpointable: true },
  architecture: { outputModalities: { action: { kind: "discrete", n: 2, start: 0 } } },
};
const options = { signedIn: true, hasSetPublic: true };

describe("availableControls: permissions and the AInimal decide what shows", () => {
  it("gives an open server's operator every control the AInimal allows", () => {
    const c = availableControls(cartpole, OPEN, options);
    expect(c).toMatchObject({ pause: true, resume: false, terminate: true, checkpoint: true, record: true, takeover: true, inspect: true });
    expect(c.modes).toEqual(["INFER", "TRAIN", "BOTH", "NONE"]);
  });

  it("gives a viewer nothing to press", () => {
    const c = availableControls(cartpole, VIEWER_ROLE, options);
    expect(c).toMatchObject({ pause: false, terminate: false, checkpoint: false, restore: false, record: false, takeover: false, setPublic: false });
    expect(c.modes).toEqual([]);
  });

  it("shows operators more than viewers", () => {
    const count = (c: ReturnType<typeof availableControls>) => Object.values(c).filter((v) => v === true || (Array.isArray(v) && v.length)).length;
    expect(count(availableControls(cartpole, OPERATOR, options))).toBeGreaterThan(count(availableControls(cartpole, VIEWER_ROLE, options)));
  });

  it("offers no train switch for a model that cannot train, and no checkpoints for one that cannot save", () => {
    const balancer = { ...cartpole, mode: "INFER" as const, modes: ["INFER" as const, "NONE" as const], model: { name: "Balancer", trainable: false, checkpointable: false } };
    const c = availableControls(balancer, OPEN, options);
    expect(c.modes).toEqual(["INFER", "NONE"]);
    expect(c.modes).not.toContain("TRAIN");
    expect(c.checkpoint).toBe(false);
    expect(c.branch).toBe(false);
  });

  it("keeps TRAIN from those without the train right", () => {
    const noTrain = { ...OPERATOR, train: false, global: { ...OPERATOR.global, instance: ["view", "control"] } };
    expect(availableControls(cartpole, noTrain, options).modes).toEqual(["INFER", "NONE"]);
  });

  it("offers no joystick to anonymous viewers or for an action space that cannot map to one", () => {
    expect(availableControls(cartpole, OPEN, { ...options, signedIn: false }).takeover).toBe(false);
    expect(availableControls(cartpole, ANONYMOUS, { signedIn: false, hasSetPublic: true }).takeover).toBe(false);
    const text = { ...cartpole, architecture: { outputModalities: { action: { kind: "text" } } } };
    expect(availableControls(text, OPEN, options).takeover).toBe(false);
  });

  it("offers only what the status permits", () => {
    const paused = availableControls({ ...cartpole, status: "PAUSED" }, OPEN, options);
    expect(paused).toMatchObject({ pause: false, resume: true });
    const ended = availableControls({ ...cartpole, status: "TERMINATED" }, OPEN, options);
    expect(ended).toMatchObject({ pause: false, resume: false, terminate: false, checkpoint: false, takeover: false, record: false });
    expect(ended.modes).toEqual([]);
  });

  it("lets owners steer their own instances but not mark them public", () => {
    const user = {
      ...VIEWER_ROLE,
      username: "otto",
      roles: ["user"],
      owned: { instance: ["view", "inspect", "control", "override", "train", "checkpoint", "record", "delete"] },
      ...{ control: true, override: true, train: true, checkpoint: true, record: true, inspect: true },
    };
    const own = availableControls(cartpole, user, options);
    expect(own).toMatchObject({ pause: true, takeover: true, checkpoint: true, setPublic: false });
    const other = availableControls({ ...cartpole, owner: "someone" }, user, options);
    expect(other).toMatchObject({ pause: false, takeover: false, inspect: false });
  });
});

describe("the server's per-instance answer wins", () => {
  it("uses Instance.permissions when the server sends it", () => {
    const watched = { ...cartpole, permissions: ["view"] };
    expect(availableControls(watched, OPEN, options)).toMatchObject({ pause: false, takeover: false, inspect: false, checkpoint: false });
    const steered = { ...cartpole, permissions: ["view", "inspect", "control", "override"] };
    expect(availableControls(steered, VIEWER_ROLE, options)).toMatchObject({ pause: true, takeover: true, inspect: true, checkpoint: false });
  });
});
