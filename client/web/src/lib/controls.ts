/**
 * Which controls an instance view shows: what the server says the viewer may do to it
 * (`Instance.permissions`, and `ModelSpec.permissions` for a branch), what the AInimal allows
 * (modes, checkpoints, a mappable action space) and what its status permits.
 */

import { actionTarget, controlWidget, type Modalities } from "./modalities";
import { may as permitted, type Action } from "./permissions";
import type { InstanceStatus, RunMode } from "./queries";

export interface ControlledInstance {
  id: string;
  /** The server's answer to "what may I do to this instance". */
  permissions: readonly string[];
  status: InstanceStatus;
  mode: RunMode;
  modes?: RunMode[];
  /** `permissions`: what the viewer may do to the model (a branch launches it); absent: nothing. */
  model: { name?: string; trainable: boolean; checkpointable: boolean; modes?: RunMode[]; permissions?: readonly string[] };
  architecture?: { outputModalities?: Modalities | null } | null;
  environment?: { actionModalities?: Modalities | null } | null;
}

export interface Controls {
  pause: boolean;
  resume: boolean;
  terminate: boolean;
  /** Modes the viewer may switch to (the current one included); empty: no mode switch. */
  modes: RunMode[];
  checkpoint: boolean;
  restore: boolean;
  branch: boolean;
  record: boolean;
  replay: boolean;
  takeover: boolean;
  /** Set and clear overrides. */
  override: boolean;
  setPublic: boolean;
  /** Look inside: parameters, architecture, activations, weights, checkpoints, recordings, logs. */
  inspect: boolean;
  /** Change the pace (setPace; the server must have it too). */
  pace: boolean;
  /** Emergency stop (emergencyStop; the server must have it too). */
  emergencyStop: boolean;
}

export const LIVE: InstanceStatus[] = ["RUNNING", "PAUSED"];
export const FINAL: InstanceStatus[] = ["TERMINATED", "FAILED"];

export function availableControls(instance: ControlledInstance, options: { signedIn: boolean; hasSetPublic: boolean }): Controls {
  const may = (action: Action) => permitted(instance, action);
  const live = LIVE.includes(instance.status);
  const control = may("control");
  const supported = instance.modes ?? instance.model.modes ?? [instance.mode];
  const modes = live ? supported.filter((m) => (m === "TRAIN" || m === "BOTH" ? instance.model.trainable && may("train") : control)) : [];
  const outputs = instance.architecture?.outputModalities ?? instance.environment?.actionModalities ?? null;
  const action = actionTarget(outputs);
  const checkpoints = instance.model.checkpointable && may("checkpoint");
  return {
    pause: live && instance.status === "RUNNING" && control,
    resume: instance.status === "PAUSED" && control,
    terminate: !FINAL.includes(instance.status) && control,
    modes: modes.length > 1 ? modes : [],
    checkpoint: live && checkpoints,
    restore: live && checkpoints,
    branch: instance.model.checkpointable && permitted({ permissions: instance.model.permissions ?? [] }, "launch"),
    record: live && may("record"),
    replay: live && control,
    takeover: live && options.signedIn && may("override") && !!action && controlWidget(action.modality) !== null,
    override: live && options.signedIn && may("override"),
    setPublic: options.hasSetPublic && !FINAL.includes(instance.status) && may("manage"),
    inspect: may("inspect"),
    pace: live && control,
    emergencyStop: !FINAL.includes(instance.status) && instance.status !== "STOPPING" && control,
  };
}
