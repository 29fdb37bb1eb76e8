// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from "@testing-library/preact";
import { afterEach, describe, expect, it } from "vitest";
import { ControlBar } from "../src/components/ControlBar";
import { Instances } from "../src/components/Instances";
import { LaunchForm, LaunchScreen } from "../src/components/LaunchForm";
import { ModalityValue } from "../src/components/ModalityView";
import { Takeover } from "../src/components/Takeover";
import { OnScreen } from "../src/components/TakeoverControls";
import { adminAvailable } from "../src/components/Admin";
import { availableControls } from "../src/lib/controls";
import { controlWidget } from "../src/lib/modalities";
import type { EnvSpec, ModelSpec } from "../src/lib/queries";
import { ANONYMOUS, Context, FakeApi, OPEN, OPERATOR, schemaWith, seenBy, VIEWER_ROLE, type Who } from "./helpers";
import { Schema } from "../src/lib/schema";

afterEach(cleanup);

describe("values are drawn by modality", () => {
  it("highlights the chosen discrete action", () => {
    render(<ModalityValue name="action" modality={{ kind: "discrete", n: 3, start: 0 }} value={2} />);
    const chosen = screen.getByRole("listitem", { current: true });
    expect(chosen.textContent).toBe("2");
    expect(screen.getAllByRole("listitem")).toHaveLength(3);
  });

  it("draws a vector as bars with its numbers, and a scalar as a sparkline", () => {
    const { container } = render(
      <div>
        <ModalityValue name="observation" modality={{ kind: "box", shape: [4], low: -1, high: 1 }} value={[0.1, -0.2, 0.3, 0]} />
        <ModalityValue name="speed" modality={{ kind: "box", shape: [1] }} value={[0.5]} />
        <ModalityValue
          name="pixels"
          modality={{ kind: "image", shape: [2, 2, 3] }}
          value={[
            [
              [0, 0, 0],
              [255, 0, 0],
            ],
            [
              [0, 255, 0],
              [0, 0, 255],
            ],
          ]}
        />
      </div>,
    );
    const widgets = [...container.querySelectorAll("[data-widget]")].map((e) => e.getAttribute("data-widget"));
    expect(widgets).toEqual(["bars", "sparkline", "image"]);
    expect(screen.getByText("-0.2")).toBeTruthy();
  });

  it("draws values that came without a modality by their shape", () => {
    const { container } = render(<ModalityValue name="x" modality={null} value={{ a: 1, b: [1, 2] }} />);
    const widgets = [...container.querySelectorAll("[data-widget]")].map((e) => e.getAttribute("data-widget"));
    expect(widgets).toEqual(["group", "sparkline", "bars"]);
  });
});

describe("takeover controls come from the action modality", () => {
  it("shows buttons for discrete actions, a joystick for a 2-D box, sliders for a small box", () => {
    const buttons = render(<OnScreen control={controlWidget({ kind: "discrete", n: 2 })!} onChange={() => undefined} />);
    expect(buttons.getAllByRole("button").map((b) => b.textContent)).toEqual(["0", "1"]);
    buttons.unmount();
    const stick = render(<OnScreen control={controlWidget({ kind: "box", shape: [2], low: -1, high: 1 })!} onChange={() => undefined} />);
    expect(stick.getByRole("slider", { name: "joystick" })).toBeTruthy();
    stick.unmount();
    const sliders = render(<OnScreen control={controlWidget({ kind: "box", shape: [3], low: 0, high: 1 })!} onChange={() => undefined} />);
    expect(sliders.container.querySelectorAll("input[type=range]")).toHaveLength(3);
  });

  it("sends the pressed button's action", () => {
    const sent: unknown[] = [];
    render(<OnScreen control={controlWidget({ kind: "discrete", n: 2 })!} onChange={(v) => sent.push(v)} />);
    fireEvent.pointerDown(screen.getByRole("button", { name: "action 1" }));
    fireEvent.pointerUp(screen.getByRole("button", { name: "action 1" }));
    expect(sent).toEqual([1, null]);
  });

  it("renders nothing for an action no person can produce", () => {
    const { container } = render(
      <Context permissions={OPEN}>
        <Takeover instanceId="i" actionName="action" modality={{ kind: "text" }} overrides={[]} onChanged={() => undefined} />
      </Context>,
    );
    expect(container.innerHTML).toBe("");
  });

  it("starts a takeover with the first action, then acts; releasing hands the step back", async () => {
    const api = new FakeApi((query) => (query.includes("override(") ? { override: { id: "o1" } } : { act: true }));
    render(
      <Context permissions={OPEN} api={api}>
        <Takeover instanceId="i" actionName="action" modality={{ kind: "discrete", n: 2 }} overrides={[]} onChanged={() => undefined} />
      </Context>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Take over" }));
    expect(api.calls).toHaveLength(0); // armed: nothing is forced until a person acts
    fireEvent.keyDown(window, { code: "ArrowRight" });
    await new Promise((r) => setTimeout(r, 0));
    fireEvent.keyUp(window, { code: "ArrowRight" });
    fireEvent.keyDown(window, { code: "ArrowLeft" });
    await new Promise((r) => setTimeout(r, 0));
    fireEvent.keyUp(window, { code: "ArrowLeft" });
    await new Promise((r) => setTimeout(r, 0));
    expect(api.calls.map((c) => c.variables)).toEqual([
      { id: "i", input: { target: "outputs/action", value: 1, takeover: "realtime" } },
      { id: "i", value: null, target: "outputs/action" },
      { id: "i", value: 0, target: "outputs/action" },
      { id: "i", value: null, target: "outputs/action" },
    ]);
  });

  it("sends every press in lockstep, and nothing on release", async () => {
    const api = new FakeApi((query) => (query.includes("override(") ? { override: { id: "o1" } } : { act: true }));
    render(
      <Context permissions={OPEN} api={api}>
        <Takeover instanceId="i" actionName="action" modality={{ kind: "discrete", n: 2 }} overrides={[]} onChanged={() => undefined} />
      </Context>,
    );
    fireEvent.change(screen.getByRole("combobox", { name: "Takeover mode" }), { target: { value: "lockstep" } });
    fireEvent.click(screen.getByRole("button", { name: "Take over" }));
    for (const code of ["Digit2", "Digit2", "Digit1"]) {
      fireEvent.keyDown(window, { code });
      fireEvent.keyUp(window, { code });
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(api.calls.map((c) => c.variables)).toEqual([
      { id: "i", input: { target: "outputs/action", value: 1, takeover: "lockstep" } },
      { id: "i", value: 1, target: "outputs/action" },
      { id: "i", value: 0, target: "outputs/action" },
    ]);
  });
});

const instance = {
  id: "i1",
  owner: "otto",
  status: "RUNNING" as const,
  mode: "INFER" as const,
  modes: ["INFER" as const, "TRAIN" as const, "BOTH" as const, "NONE" as const],
  model: { name: "Reinforce", trainable: true, checkpointable: true },
  architecture: { outputModalities: { action: { kind: "discrete", n: 2 } } },
};

describe("the control bar shows only what the viewer may do", () => {
  const bar = (who: Who, inst = instance) => (
    <Context permissions={who}>
      <ControlBar
        id="i1"
        mode={inst.mode}
        isPublic={false}
        controls={availableControls(seenBy(inst, who), { signedIn: true, hasSetPublic: true })}
        onChanged={() => undefined}
      />
    </Context>
  );

  it("is empty for a viewer", () => {
    const { container } = render(bar(VIEWER_ROLE));
    expect(container.innerHTML).toBe("");
  });

  it("offers pause, terminate, the modes and public visibility to an operator", () => {
    render(bar(OPERATOR));
    expect(screen.getByRole("button", { name: /Pause/ })).toBeTruthy();
    expect(screen.getByRole("button", { name: /Terminate/ })).toBeTruthy();
    const modes = [...screen.getByRole("combobox", { name: "Mode" }).querySelectorAll("option")].map((o) => o.value);
    expect(modes).toEqual(["INFER", "TRAIN", "BOTH", "NONE"]);
    expect(screen.getByRole("checkbox", { name: "public" })).toBeTruthy();
  });

  it("has no train mode for a model that cannot train", () => {
    const inferOnly = { ...instance, modes: ["INFER" as const, "NONE" as const], model: { name: "B", trainable: false, checkpointable: false } };
    render(bar(OPEN, inferOnly));
    const modes = [...screen.getByRole("combobox", { name: "Mode" }).querySelectorAll("option")].map((o) => o.value);
    expect(modes).toEqual(["INFER", "NONE"]);
  });

  it("asks before terminating, then sends terminate", async () => {
    const api = new FakeApi(() => ({ terminate: { id: "i1" } }));
    render(
      <Context permissions={OPEN} api={api}>
        <ControlBar
          id="i1"
          mode="INFER"
          isPublic={false}
          controls={availableControls(seenBy(instance, OPEN), { signedIn: true, hasSetPublic: false })}
          onChanged={() => undefined}
        />
      </Context>,
    );
    fireEvent.click(screen.getByRole("button", { name: /Terminate/ }));
    expect(api.calls).toHaveLength(0);
    fireEvent.click(screen.getByRole("button", { name: "Really terminate?" }));
    await new Promise((r) => setTimeout(r, 0));
    expect(api.calls[0]?.query).toContain("terminate(id: $id)");
  });
});

const model: ModelSpec = {
  name: "Reinforce",
  kind: "ainimal",
  description: null,
  trainable: true,
  modes: ["INFER", "TRAIN", "BOTH", "NONE"],
  checkpointable: true,
  error: null,
  inputModalities: null,
  outputModalities: null,
  permissions: ["view", "launch", "train"],
  parameters: [{ name: "hidden_units", type: "int", default: 32, range: [4, 256], description: "width", choices: null, display: null }],
};
const env: EnvSpec = {
  name: "Corridor",
  kind: "ainimal",
  description: null,
  error: null,
  observationModalities: null,
  actionModalities: null,
  permissions: ["view", "launch"],
  parameters: [{ name: "length", type: "int", default: 10, range: [2, 100], display: "Corridor length", description: null, choices: null }],
};

describe("the launch form", () => {
  it("checks values before sending and sends typed parameters", async () => {
    const api = new FakeApi(() => ({ launch: { id: "new" } }));
    render(
      <Context permissions={OPEN} api={api}>
        <LaunchForm models={[model]} environments={[env]} initialModel="Reinforce" initialEnvironment="Corridor" checkpoint={null} />
      </Context>,
    );
    const length = screen.getByLabelText("Corridor length");
    fireEvent.input(length, { target: { value: "500" } });
    expect(screen.getByText("Corridor length expects a whole number in [2, 100], got 500")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Launch" }));
    await new Promise((r) => setTimeout(r, 0));
    expect(api.calls).toHaveLength(0);
    fireEvent.input(length, { target: { value: "20" } });
    fireEvent.change(screen.getByLabelText("Mode"), { target: { value: "TRAIN" } });
    fireEvent.click(screen.getByRole("button", { name: "Launch" }));
    await new Promise((r) => setTimeout(r, 0));
    expect(api.calls[0]?.variables).toEqual({
      input: { model: "Reinforce", mode: "TRAIN", parameters: { hidden_units: 32 }, environment: "Corridor", environmentParameters: { length: 20 } },
    });
  });

  it("offers no train mode to someone without the train right", () => {
    const noTrain = { ...model, permissions: ["view", "launch"] }; // as the server says for this viewer
    render(
      <Context permissions={OPERATOR}>
        <LaunchForm models={[noTrain]} environments={[env]} initialModel="Reinforce" initialEnvironment="Corridor" checkpoint={null} />
      </Context>,
    );
    const modes = [...screen.getByLabelText("Mode").querySelectorAll("option")].map((o) => o.getAttribute("value"));
    expect(modes).toEqual(["INFER"]);
  });
});

describe("screens simplify with permissions", () => {
  it("shows no launch button on the instance list without launch rights", async () => {
    const api = new FakeApi(() => ({ instances: [] }));
    const viewer = render(
      <Context permissions={VIEWER_ROLE} api={api}>
        <Instances />
      </Context>,
    );
    expect(viewer.queryByRole("link", { name: "Launch…" })).toBeNull();
    viewer.unmount();
    render(
      <Context permissions={OPEN} api={api}>
        <Instances />
      </Context>,
    );
    expect(screen.getByRole("link", { name: "Launch…" })).toBeTruthy();
  });

  it("offers administration only when the server says the viewer may administer", () => {
    expect(adminAvailable(OPERATOR)).toBe(true);
    expect(adminAvailable(VIEWER_ROLE)).toBe(false);
    expect(adminAvailable(ANONYMOUS)).toBe(false);
    expect(adminAvailable(OPEN)).toBe(false);
    // A server without administration (no accounts) never says ADMINISTER.
    expect(adminAvailable({ ...OPERATOR, globalPermissions: ["VIEW", "LAUNCH"] })).toBe(false);
  });
});

describe("the emergency stop", () => {
  const withStop = schemaWith({ mutation: ["emergencyStop"] });
  const bar = (who: Who, api = new FakeApi(() => ({ emergencyStop: { id: "i1" } })), schema = withStop) => (
    <Context permissions={who} api={api} schema={schema}>
      <ControlBar
        id="i1"
        mode="INFER"
        isPublic={false}
        controls={availableControls(seenBy(instance, who), { signedIn: true, hasSetPublic: false })}
        onChanged={() => undefined}
      />
    </Context>
  );

  it("is a button for a controller, and Escape pressed twice sends emergencyStop", async () => {
    const api = new FakeApi(() => ({ emergencyStop: { id: "i1" } }));
    render(bar(OPERATOR, api));
    expect(screen.getByTestId("emergency-stop")).toBeTruthy();
    fireEvent.keyDown(window, { key: "Escape" });
    expect(api.calls).toHaveLength(0); // one Escape does nothing
    fireEvent.keyDown(window, { key: "Escape" });
    await new Promise((r) => setTimeout(r, 0));
    expect(api.calls[0]?.query).toContain("emergencyStop(id: $id)");
  });

  it("is not shown to a viewer, nor when the server has no emergencyStop", () => {
    const { container } = render(bar(VIEWER_ROLE));
    expect(container.querySelector("[data-testid=emergency-stop]")).toBeNull();
    cleanup();
    render(bar(OPERATOR, undefined, new Schema(null)));
    expect(screen.queryByTestId("emergency-stop")).toBeNull();
  });
});

describe("the screens follow what the server says the viewer may do", () => {
  it("shows an operator no control on an instance the server lists nothing on", () => {
    const watched = { ...seenBy(instance, OPERATOR), permissions: ["view"] };
    const { container } = render(
      <Context permissions={OPERATOR}>
        <ControlBar
          id="i1"
          mode="INFER"
          isPublic={false}
          controls={availableControls(watched, { signedIn: true, hasSetPublic: true })}
          onChanged={() => undefined}
        />
      </Context>,
    );
    expect(container.innerHTML).toBe("");
  });

  it("shows a viewer the controls the server lists on an instance", () => {
    const steered = { ...seenBy(instance, VIEWER_ROLE), permissions: ["view", "control"] };
    render(
      <Context permissions={VIEWER_ROLE}>
        <ControlBar
          id="i1"
          mode="INFER"
          isPublic={false}
          controls={availableControls(steered, { signedIn: true, hasSetPublic: true })}
          onChanged={() => undefined}
        />
      </Context>,
    );
    expect(screen.getByRole("button", { name: /Pause/ })).toBeTruthy();
    expect(screen.queryByRole("checkbox", { name: "public" })).toBeNull(); // no manage listed
  });

  it("offers a Launch button on the instance list only when the server says LAUNCH", () => {
    const api = new FakeApi(() => ({ instances: [] }));
    render(
      <Context permissions={{ ...OPERATOR, globalPermissions: ["VIEW"] }} api={api}>
        <Instances />
      </Context>,
    );
    expect(screen.queryByRole("link", { name: "Launch…" })).toBeNull();
  });
});

describe("a launch link to a model that cannot be launched", () => {
  const broken = { ...model, name: "Broken", error: "no module named broken_agent" };
  const catalog = () => new FakeApi(() => ({ models: [model, broken], environments: [env] }));
  const open = async (name: string, environment: string | null = null) => {
    const api = catalog();
    render(
      <Context permissions={OPEN} api={api}>
        <LaunchScreen model={name} environment={environment} checkpoint={null} />
      </Context>,
    );
    await new Promise((r) => setTimeout(r, 0));
  };

  it("says the linked model is unavailable instead of opening another model's form", async () => {
    await open("Broken");
    expect(screen.getByRole("alert").textContent).toBe("The model “Broken” is unavailable: no module named broken_agent");
    expect(screen.queryByRole("form", { name: "Launch" })).toBeNull();
    expect(screen.queryByLabelText("Model")).toBeNull();
  });

  it("says a linked model does not exist", async () => {
    await open("Nope");
    expect(screen.getByRole("alert").textContent).toContain("There is no model named “Nope”");
    expect(screen.queryByLabelText("Model")).toBeNull();
  });

  it("says a linked environment does not exist", async () => {
    await open("Reinforce", "Nowhere");
    expect(screen.getByRole("alert").textContent).toContain("There is no environment named “Nowhere”");
  });

  it("opens the linked model's own form when it can be launched", async () => {
    await open("Reinforce", "Corridor");
    expect((screen.getByLabelText("Model") as HTMLSelectElement).value).toBe("Reinforce");
  });
});
