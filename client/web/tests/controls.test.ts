import { describe, expect, it } from "vitest";
import { availableControls, type ControlledInstance } from "../src/lib/controls";
import { ALL_INSTANCE_ACTIONS, ANONYMOUS, OPEN, OPERATOR, seenBy, VIEWER_ROLE, type Who } from "./helpers";

const cartpole: ControlledInstance = {
  id: "i1",
  permissions: [],
  status: "RUNNING",
  mode: "TRAIN",
  modes: ["INFER", "TRAIN", "BOTH", "NONE"],
  model: { name: "Reinforce", trainable: true, checkpointable: true },
  architecture: { outputModalities: { action: { kind: "discrete", n: 2, start: 0 } } },
};
const options = { signedIn: true, hasSetPublic: true };
/** The controls `who` gets for `instance`, as the server lists what `who` may do to it. */
const controlsFor = (instance: ControlledInstance, who: Who, opts = options) => availableControls(seenBy(instance, who), opts);

describe("availableControls: the server's permissions and the AInimal decide what shows", () => {
  it("gives an open server's operator every control the AInimal allows", () => {
    const c = controlsFor(cartpole, OPEN);
    expect(c).toMatchObject({ pause: true, resume: false, terminate: true, checkpoint: true, record: true, takeover: true, inspect: true });
    expect(c.modes).toEqual(["INFER", "TRAIN", "BOTH", "NONE"]);
  });

  it("gives a viewer nothing to press", () => {
    const c = controlsFor(cartpole, VIEWER_ROLE);
    expect(c).toMatchObject({ pause: false, terminate: false, checkpoint: false, restore: false, record: false, takeover: false, setPublic: false });
    expect(c.modes).toEqual([]);
  });

  it("shows operators more than viewers", () => {
    const count = (c: ReturnType<typeof availableControls>) => Object.values(c).filter((v) => v === true || (Array.isArray(v) && v.length)).length;
    expect(count(controlsFor(cartpole, OPERATOR))).toBeGreaterThan(count(controlsFor(cartpole, VIEWER_ROLE)));
  });

  it("offers no train switch for a model that cannot train, and no checkpoints for one that cannot save", () => {
    const balancer = {
      ...cartpole,
      mode: "INFER" as const,
      modes: ["INFER" as const, "NONE" as const],
      model: { name: "Balancer", trainable: false, checkpointable: false },
    };
    const c = controlsFor(balancer, OPEN);
    expect(c.modes).toEqual(["INFER", "NONE"]);
    expect(c.modes).not.toContain("TRAIN");
    expect(c.checkpoint).toBe(false);
    expect(c.branch).toBe(false);
  });

  it("keeps TRAIN from those without the train right", () => {
    const noTrain = { ...OPERATOR, instanceActions: ["view", "control"] };
    expect(controlsFor(cartpole, noTrain).modes).toEqual(["INFER", "NONE"]);
  });

  it("offers no joystick to anonymous viewers or for an action space that cannot map to one", () => {
    expect(controlsFor(cartpole, OPEN, { ...options, signedIn: false }).takeover).toBe(false);
    expect(controlsFor(cartpole, ANONYMOUS, { signedIn: false, hasSetPublic: true }).takeover).toBe(false);
    const text = { ...cartpole, architecture: { outputModalities: { action: { kind: "text" } } } };
    expect(controlsFor(text, OPEN).takeover).toBe(false);
  });

  it("offers only what the status permits", () => {
    const paused = controlsFor({ ...cartpole, status: "PAUSED" }, OPEN);
    expect(paused).toMatchObject({ pause: false, resume: true });
    const ended = controlsFor({ ...cartpole, status: "TERMINATED" }, OPEN);
    expect(ended).toMatchObject({ pause: false, resume: false, terminate: false, checkpoint: false, takeover: false, record: false });
    expect(ended.modes).toEqual([]);
  });

  it("lets owners steer their own instances but not mark them public", () => {
    // What the server lists for a user on an instance they own, and on someone else's.
    const owner = { ...VIEWER_ROLE, username: "otto", roles: ["user"], instanceActions: ALL_INSTANCE_ACTIONS.filter((a) => a !== "manage") };
    const own = controlsFor(cartpole, owner);
    expect(own).toMatchObject({ pause: true, takeover: true, checkpoint: true, setPublic: false });
    const other = controlsFor(cartpole, { ...owner, instanceActions: [] });
    expect(other).toMatchObject({ pause: false, takeover: false, inspect: false });
  });

  it("offers a branch only when the server lets the viewer launch the model", () => {
    expect(controlsFor(cartpole, OPEN).branch).toBe(true);
    expect(controlsFor(cartpole, { ...OPEN, modelActions: ["view"] }).branch).toBe(false);
  });
});

describe("the server's per-instance answer decides", () => {
  it("uses Instance.permissions whoever the viewer is", () => {
    const watched = { ...cartpole, permissions: ["view"] };
    expect(availableControls(watched, options)).toMatchObject({ pause: false, takeover: false, inspect: false, checkpoint: false });
    const steered = { ...cartpole, permissions: ["view", "inspect", "control", "override"] };
    expect(availableControls(steered, options)).toMatchObject({ pause: true, takeover: true, inspect: true, checkpoint: false });
  });
});
