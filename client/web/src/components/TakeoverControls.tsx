/** On-screen controls for an action: buttons, a joystick, sliders or toggles, from its modality. */

import { useState } from "preact/hooks";
import type { ControlWidget } from "../lib/modalities";
import { type ActionValue, joystickValue } from "../lib/takeover";

/** Touch / mouse controls for the action. */
export function OnScreen({ control, onChange }: { control: ControlWidget; onChange: (value: ActionValue, press: boolean) => void }) {
  if (control.kind === "buttons") {
    return (
      <div class="touch-buttons">
        {control.choices.map((choice) => (
          <button
            key={choice}
            type="button"
            class="touch"
            aria-label={`action ${choice}`}
            onPointerDown={(e) => {
              (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
              onChange(choice, true);
            }}
            onPointerUp={() => onChange(null, false)}
            onPointerCancel={() => onChange(null, false)}
          >
            {choice}
          </button>
        ))}
      </div>
    );
  }
  if (control.kind === "joystick") return <Joystick control={control} onChange={onChange} />;
  if (control.kind === "sliders") return <Sliders control={control} onChange={onChange} />;
  return <Toggles size={control.size} onChange={onChange} />;
}

function Joystick({ control, onChange }: { control: Extract<ControlWidget, { kind: "joystick" }>; onChange: (v: ActionValue, press: boolean) => void }) {
  const [knob, setKnob] = useState<[number, number]>([0, 0]);
  const move = (e: PointerEvent, press: boolean) => {
    const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const x = ((e.clientX - rect.left) / rect.width) * 2 - 1;
    const y = -(((e.clientY - rect.top) / rect.height) * 2 - 1);
    const length = Math.hypot(x, y);
    const [cx, cy] = length > 1 ? [x / length, y / length] : [x, y];
    setKnob([cx, cy]);
    onChange(joystickValue(control, cx, cy), press);
  };
  const release = () => {
    setKnob([0, 0]);
    onChange(null, false);
  };
  return (
    <div
      class="joystick"
      role="slider"
      aria-label="joystick"
      aria-valuetext={JSON.stringify(joystickValue(control, knob[0], knob[1]))}
      onPointerDown={(e) => {
        (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
        move(e, true);
      }}
      onPointerMove={(e) => {
        if (e.buttons) move(e, false);
      }}
      onPointerUp={release}
      onPointerCancel={release}
    >
      <div class="knob" style={{ left: `${50 + knob[0] * 40}%`, top: `${50 - knob[1] * 40}%` }} />
    </div>
  );
}

function Sliders({ control, onChange }: { control: Extract<ControlWidget, { kind: "sliders" }>; onChange: (v: ActionValue, press: boolean) => void }) {
  const middle = control.low.map((lo, i) => (lo + control.high[i]!) / 2);
  const [values, setValues] = useState(middle);
  return (
    <div class="sliders">
      {values.map((v, i) => (
        <label key={i}>
          {i}
          <input
            type="range"
            min={control.low[i]}
            max={control.high[i]}
            step={(control.high[i]! - control.low[i]!) / 100}
            value={v}
            onInput={(e) => {
              const next = values.slice();
              next[i] = Number((e.target as HTMLInputElement).value);
              setValues(next);
              onChange(next, true);
            }}
          />
          <span class="value">{v.toFixed(2)}</span>
        </label>
      ))}
      <button
        type="button"
        onClick={() => {
          setValues(middle);
          onChange(null, false);
        }}
      >
        Release
      </button>
    </div>
  );
}

function Toggles({ size, onChange }: { size: number; onChange: (v: ActionValue, press: boolean) => void }) {
  const [bits, setBits] = useState(() => Array.from({ length: size }, () => 0));
  return (
    <div class="touch-buttons">
      {bits.map((b, i) => (
        <button
          key={i}
          type="button"
          class={`touch ${b ? "on" : ""}`}
          aria-pressed={b === 1}
          onClick={() => {
            const next = bits.slice();
            next[i] = b ? 0 : 1;
            setBits(next);
            onChange(next.some((x) => x) ? next : null, true);
          }}
        >
          {i}
        </button>
      ))}
    </div>
  );
}
