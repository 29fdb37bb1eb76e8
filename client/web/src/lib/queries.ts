/**
 * The GraphQL documents the client sends and the shapes it reads back, all generated from the
 * schema (src/graphql/*.graphql -> src/graphql/generated.ts, `npm run codegen`): a field the
 * server does not have, or a screen reading one the document does not ask for, fails tsc.
 */

import * as G from "../graphql/generated";
import type { Modalities } from "./modalities";

export type RunMode = G.RunMode;
export type InstanceStatus = G.InstanceStatus;

export type ModelSpec = G.CatalogQuery["models"][number];
export type EnvSpec = G.CatalogQuery["environments"][number];
export type InstanceSummary = G.InstanceSummaryFieldsFragment;
export type InstanceDetail = NonNullable<G.InstanceQuery["instance"]>;
export type Checkpoint = G.CheckpointFieldsFragment;
export type Recording = G.RecordingFieldsFragment;
export type Override = G.OverrideFieldsFragment;
export type Replay = G.ReplayFieldsFragment;
export type InstanceEvent = G.EventsSubscription["instanceEvents"];
export type Session = G.LoginMutation["login"];
export type Provider = G.AuthProvidersQuery["authProviders"][number];

export const ME = G.MeDocument;
export const AUTH_PROVIDERS = G.AuthProvidersDocument;
export const LOGIN = G.LoginDocument;
export const SIGN_IN_WITH_GOOGLE = G.SignInWithGoogleDocument;
export const CREATE_OWN_ACCOUNT = G.CreateOwnAccountDocument;

export const CATALOG = G.CatalogDocument;
export const LAUNCH = G.LaunchDocument;

export const INSTANCES = G.InstancesDocument;
export const INSTANCE = G.InstanceDocument;
export const INSTANCE_EVENTS = G.EventsDocument;
export const TELEMETRY = G.TelemetryDocument;

export const PAUSE = G.PauseDocument;
export const RESUME = G.ResumeDocument;
export const TERMINATE = G.TerminateDocument;
export const EMERGENCY_STOP = G.EmergencyStopDocument;
export const SET_MODE = G.SetModeDocument;
export const SET_PACE = G.SetPaceDocument;
export const SAVE_CHECKPOINT = G.SaveCheckpointDocument;
export const RESTORE_CHECKPOINT = G.RestoreCheckpointDocument;
export const SET_PUBLIC = G.SetPublicDocument;

export const OVERRIDE = G.OverrideDocument;
export const CLEAR_OVERRIDE = G.ClearOverrideDocument;
export const ACT = G.ActDocument;

export const START_RECORDING = G.StartRecordingDocument;
export const STOP_RECORDING = G.StopRecordingDocument;
export const REPLAY_OPEN = G.ReplayOpenLoopDocument;
export const REPLAY_CLOSED = G.ReplayClosedLoopDocument;
export const REPLAY_STATUS = G.ReplayStatusDocument;
export const REPLAY_COMPARISON = G.ReplayComparisonDocument;
export const COMPARE = G.CompareRecordingsDocument;

/** What an instance's `architecture` (a JSON field) holds, as the worker reports it. */
export interface Layer {
  name: string;
  type: string;
  parameters: number;
  shapes: Record<string, number[]>;
  output_shape?: number[] | null;
}

export interface Architecture {
  framework?: string | null;
  parameters?: number | null;
  layers?: Layer[];
  inputModalities?: Modalities | null;
  outputModalities?: Modalities | null;
}
