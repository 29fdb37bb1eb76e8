import { describe, expect, it } from "vitest";
import { collect, formField, initialRaw, parseRaw } from "../src/lib/params";

const lr = formField({ name: "learning_rate", type: "float", default: 0.01, range: [0.0001, 0.1], description: "step size" });
const units = formField({ name: "hidden_units", type: "int", default: 32, range: [4, 256] });
const act = formField({ name: "activation", type: "choice", default: "tanh", choices: ["relu", "tanh"] });
const flag = formField({ name: "normalise", type: "bool", default: true });
const label = formField({ name: "length", type: "int", default: 10, display: "Corridor length" });

describe("launch form fields from parameters", () => {
  it("picks an input per type with the range, the default and a label", () => {
    expect(lr).toMatchObject({ kind: "number", min: 0.0001, max: 0.1, step: "any", label: "learning rate", description: "step size" });
    expect(units).toMatchObject({ kind: "integer", step: 1, min: 4, max: 256 });
    expect(act).toMatchObject({ kind: "select", choices: ["relu", "tanh"] });
    expect(flag.kind).toBe("checkbox");
    expect(label.label).toBe("Corridor length");
    expect(formField({ name: "layers", type: "list" }).kind).toBe("json");
  });

  it("starts from the defaults", () => {
    expect(initialRaw(lr)).toBe("0.01");
    expect(initialRaw(act)).toBe("1");
    expect(initialRaw(flag)).toBe(true);
  });

  it("refuses values outside the range, fractions for ints and junk, naming expected and actual", () => {
    expect(parseRaw(units, "512")).toEqual({ ok: false, error: "hidden units expects a whole number in [4, 256], got 512" });
    expect(parseRaw(units, "3.5")).toMatchObject({ ok: false });
    expect(parseRaw(lr, "abc")).toEqual({ ok: false, error: 'learning rate expects a number, got "abc"' });
    expect(parseRaw(lr, "0.05")).toEqual({ ok: true, value: 0.05 });
    expect(parseRaw(act, "0")).toEqual({ ok: true, value: "relu" });
  });

  it("sends only what is valid and filled in; an empty field means the default", () => {
    const result = collect([lr, units, act, flag], { learning_rate: "", hidden_units: "64", activation: "0", normalise: false });
    expect(result.values).toEqual({ hidden_units: 64, activation: "relu", normalise: false });
    expect(result.errors).toEqual({});
    expect(collect([units], { hidden_units: "1" }).errors).toHaveProperty("hidden_units");
  });
});
