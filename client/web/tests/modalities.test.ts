import { describe, expect, it } from "vitest";
import { actionTarget, controlWidget, displayWidget, flatNumbers } from "../src/lib/modalities";
import { joystickValue, keyBindings, valueFromGamepad, valueFromKeys } from "../src/lib/takeover";

const CARTPOLE_OBS = { kind: "box", shape: [4], dtype: "float32", low: [-4.8, null, -0.42, null], high: [4.8, null, 0.42, null] };
const TWO_ACTIONS = { kind: "discrete", n: 2, start: 0 };

describe("displayWidget: how a value is drawn", () => {
  it("draws images as images", () => {
    expect(displayWidget({ kind: "image", shape: [84, 84, 3] })).toEqual({ kind: "image" });
  });

  it("draws a short vector as bars, a scalar as a sparkline, a large array as a heatmap", () => {
    expect(displayWidget(CARTPOLE_OBS)).toEqual({ kind: "bars", size: 4 });
    expect(displayWidget({ kind: "box", shape: [1] })).toEqual({ kind: "sparkline" });
    expect(displayWidget({ kind: "box", shape: [16, 20] })).toEqual({ kind: "heatmap", rows: 16, cols: 20 });
  });

  it("draws discrete values as choices, starting where the space starts", () => {
    expect(displayWidget(TWO_ACTIONS)).toEqual({ kind: "choices", choices: [0, 1] });
    expect(displayWidget({ kind: "discrete", n: 3, start: -1 })).toEqual({ kind: "choices", choices: [-1, 0, 1] });
    expect(displayWidget({ kind: "multi_discrete", nvec: [2, 3], start: [0, 1] })).toEqual({
      kind: "multi-choices",
      groups: [
        [0, 1],
        [1, 2, 3],
      ],
    });
    expect(displayWidget({ kind: "multi_binary", n: 3 })).toEqual({ kind: "bits", size: 3 });
  });

  it("nests dicts and tuples, and falls back to JSON for what it does not know", () => {
    const widget = displayWidget({ kind: "dict", spaces: { a: TWO_ACTIONS } });
    expect(widget).toEqual({ kind: "group", entries: [["a", TWO_ACTIONS]] });
    expect(displayWidget({ kind: "tuple", spaces: [TWO_ACTIONS] })).toEqual({ kind: "group", entries: [["0", TWO_ACTIONS]] });
    expect(displayWidget({ kind: "text" })).toEqual({ kind: "text" });
    expect(displayWidget({ kind: "unknown" })).toEqual({ kind: "json" });
    expect(displayWidget(null)).toEqual({ kind: "json" });
  });
});

describe("controlWidget: how a person produces an action", () => {
  it("maps discrete actions to buttons", () => {
    expect(controlWidget(TWO_ACTIONS)).toEqual({ kind: "buttons", choices: [0, 1] });
  });

  it("maps a bounded 2-D box to a joystick and a small bounded box to sliders", () => {
    expect(controlWidget({ kind: "box", shape: [2], low: -1, high: 1 })).toEqual({ kind: "joystick", low: [-1, -1], high: [1, 1] });
    expect(controlWidget({ kind: "box", shape: [3], low: [-1, 0, 0], high: [1, 1, 1] })).toEqual({
      kind: "sliders",
      low: [-1, 0, 0],
      high: [1, 1, 1],
      shape: [3],
    });
  });

  it("offers nothing for what cannot map: unbounded or large boxes, images, text, too many choices", () => {
    expect(controlWidget({ kind: "box", shape: [2], low: null, high: null })).toBeNull();
    expect(controlWidget(CARTPOLE_OBS)).toBeNull(); // some elements unbounded
    expect(controlWidget({ kind: "box", shape: [64], low: 0, high: 1 })).toBeNull();
    expect(controlWidget({ kind: "image", shape: [8, 8, 3] })).toBeNull();
    expect(controlWidget({ kind: "text" })).toBeNull();
    expect(controlWidget({ kind: "discrete", n: 100 })).toBeNull();
    expect(controlWidget(null)).toBeNull();
  });

  it("finds the action among the outputs", () => {
    expect(actionTarget({ action: TWO_ACTIONS })?.name).toBe("action");
    expect(actionTarget({ steer: TWO_ACTIONS })?.name).toBe("steer");
    expect(actionTarget({ a: TWO_ACTIONS, b: TWO_ACTIONS })).toBeNull();
    expect(actionTarget(null)).toBeNull();
  });
});

describe("keys and gamepads become actions", () => {
  const buttons = controlWidget(TWO_ACTIONS);
  const keys = keyBindings(buttons);

  it("binds arrows and digits to a two-way choice; the newest held key wins; nothing held is null", () => {
    expect(keys.map((k) => k.code)).toEqual(["Digit1", "Digit2", "ArrowLeft", "ArrowRight"]);
    expect(valueFromKeys(buttons, keys, ["ArrowRight"])).toBe(1);
    expect(valueFromKeys(buttons, keys, ["ArrowRight", "ArrowLeft"])).toBe(0);
    expect(valueFromKeys(buttons, keys, ["KeyQ"])).toBeNull();
    expect(valueFromKeys(buttons, keys, [])).toBeNull();
  });

  it("moves a joystick with arrows or WASD, within the box's bounds", () => {
    const stick = controlWidget({ kind: "box", shape: [2], low: [-2, 0], high: [2, 1] });
    const bound = keyBindings(stick);
    expect(valueFromKeys(stick, bound, ["ArrowRight"])).toEqual([2, 0.5]);
    expect(valueFromKeys(stick, bound, ["KeyA", "KeyW"])).toEqual([-2, 1]);
    expect(joystickValue(stick as never, 0, 0)).toEqual([0, 0.5]);
  });

  it("pushes a one-value box (a torque) to either bound with arrows or A/D; a larger box gets no keys", () => {
    const torque = controlWidget({ kind: "box", shape: [1], low: -2, high: 2 })!;
    expect(torque.kind).toBe("sliders");
    const bound = keyBindings(torque);
    expect(valueFromKeys(torque, bound, ["ArrowLeft"])).toEqual([-2]);
    expect(valueFromKeys(torque, bound, ["KeyD"])).toEqual([2]);
    expect(valueFromKeys(torque, bound, ["ArrowLeft", "ArrowRight"])).toEqual([0]);
    expect(valueFromKeys(torque, bound, [])).toBeNull();
    expect(keyBindings(controlWidget({ kind: "box", shape: [3], low: -1, high: 1 }))).toEqual([]);
  });

  it("reads a gamepad's face buttons, d-pad and sticks, ignoring a resting stick", () => {
    const none = { buttons: [] as boolean[], axes: [0.05, -0.02] };
    expect(valueFromGamepad(buttons, none)).toBeNull();
    expect(valueFromGamepad(buttons, { buttons: [false, true], axes: [] })).toBe(1);
    const dpadLeft = Array.from({ length: 16 }, (_, i) => i === 14);
    expect(valueFromGamepad(buttons, { buttons: dpadLeft, axes: [] })).toBe(0);
    const stick = controlWidget({ kind: "box", shape: [2], low: -1, high: 1 });
    expect(valueFromGamepad(stick, none)).toBeNull();
    expect(valueFromGamepad(stick, { buttons: [], axes: [1, -1] })).toEqual([1, 1]); // up is negative on pads
  });

  it("flattens nested numbers for drawing", () => {
    expect(
      flatNumbers([
        [1, 2],
        [3, true],
      ]),
    ).toEqual([1, 2, 3, 1]);
    expect(flatNumbers(5)).toEqual([5]);
    expect(flatNumbers("x")).toEqual([]);
  });
});
