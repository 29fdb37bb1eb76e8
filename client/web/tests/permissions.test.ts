import { describe, expect, it } from "vitest";
import { isOpenServer, isSignedIn, may, mayGlobally } from "../src/lib/permissions";
import { ANONYMOUS, OPEN, OPERATOR, VIEWER_ROLE } from "./helpers";

describe("the client follows the server's permissions", () => {
  it("answers global questions from me.globalPermissions only", () => {
    expect(mayGlobally(OPERATOR, "LAUNCH")).toBe(true);
    expect(mayGlobally(OPERATOR, "ADMINISTER")).toBe(true);
    expect(mayGlobally(OPERATOR, "MANAGE_USERS")).toBe(false);
    expect(mayGlobally(VIEWER_ROLE, "LAUNCH")).toBe(false);
    expect(mayGlobally(ANONYMOUS, "VIEW")).toBe(true);
    expect(mayGlobally(null, "VIEW")).toBe(false);
  });

  it("answers per-resource questions from the resource's own permissions", () => {
    expect(may({ permissions: ["view", "control"] }, "control")).toBe(true);
    expect(may({ permissions: ["view"] }, "control")).toBe(false);
    expect(may({ permissions: [] }, "view")).toBe(false);
    expect(may(null, "view")).toBe(false);
  });

  it("knows an open server and who is signed in", () => {
    expect(isOpenServer(OPEN)).toBe(true);
    expect(isOpenServer(OPERATOR)).toBe(false);
    expect(isSignedIn(OPEN)).toBe(true);
    expect(isSignedIn(VIEWER_ROLE)).toBe(true);
    expect(isSignedIn(ANONYMOUS)).toBe(false);
  });
});
