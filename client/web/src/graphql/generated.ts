/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type BudgetInput = {
  episodes?: number | null | undefined;
  seconds?: number | null | undefined;
  steps?: number | null | undefined;
};

export type CheckpointScheduleInput = {
  keep?: number | null | undefined;
  seconds?: number | null | undefined;
  steps?: number | null | undefined;
};

export type InstanceStatus =
  | 'FAILED'
  | 'PAUSED'
  | 'PENDING'
  | 'RUNNING'
  | 'STARTING'
  | 'STOPPING'
  | 'TERMINATED';

export type LaunchInput = {
  checkpoint?: string | number | null | undefined;
  checkpointEvery?: CheckpointScheduleInput | null | undefined;
  environment?: string | null | undefined;
  environmentParameters?: any;
  mode?: RunMode | null | undefined;
  model: string;
  pace?: number | null | undefined;
  parameters?: any;
  realtime?: boolean | null | undefined;
  /** A tag, branch or commit of a git-backed model's repository: launch the model as it is there, from the checkpoint its tree holds. */
  revision?: string | null | undefined;
  /** Seed for the instance's random generators; a random one when absent. */
  seed?: number | null | undefined;
  stopAfter?: BudgetInput | null | undefined;
};

export type OverrideInput = {
  /**
   * A takeover's lease: without `renewTakeover` or `act` for this long, control goes back to the
   * AInimal (default: the server's workers.takeover_hold_seconds, 5 s).
   */
  holdSeconds?: number | null | undefined;
  /** Where in a tensor (the last axis): a unit index or a list of them; the whole tensor when absent. */
  index?: any;
  mode?: string | null | undefined;
  /**
   * Makes an output override a human takeover: "realtime" (the latest action from `act` is used at
   * each step, the AInimal's own fills gaps) or "lockstep" (the env waits for each action).
   */
  takeover?: string | null | undefined;
  target: string;
  /** Lockstep takeover: how long a step waits for a person's action before the AInimal acts (default 5 s). */
  timeoutSeconds?: number | null | undefined;
  value: any;
};

export type RunMode =
  | 'BOTH'
  | 'INFER'
  | 'NONE'
  | 'TRAIN';

/** What a viewer may do on this server as a whole, for a client to choose its screens. */
export type ViewerPermission =
  /** Open the administration screen: list accounts and grants. */
  | 'ADMINISTER'
  /** Launch some model (ModelSpec.permissions says which). */
  | 'LAUNCH'
  /** Create, disable and delete accounts and change their roles. */
  | 'MANAGE_USERS'
  /** Watch some instance (the instance list; public instances count). */
  | 'VIEW';

export type AccountFieldsFragment = { username: string, provider: string, email: string | null, disabled: boolean, createdAt: string | null, roles: Array<string> };

export type GrantFieldsFragment = { subject: string, kind: string, resource: string, actions: Array<string>, grantedBy: string | null };

export type AccountsQueryVariables = Exact<{ [key: string]: never; }>;


export type AccountsQuery = { users: Array<{ username: string, provider: string, email: string | null, disabled: boolean, createdAt: string | null, roles: Array<string> }> };

export type GrantsQueryVariables = Exact<{ [key: string]: never; }>;


export type GrantsQuery = { grants: Array<{ subject: string, kind: string, resource: string, actions: Array<string>, grantedBy: string | null }> };

export type SetRolesMutationVariables = Exact<{
  username: string;
  roles: Array<string> | string;
}>;


export type SetRolesMutation = { setRoles: Array<string> };

export type CreateAccountMutationVariables = Exact<{
  username: string;
  password: string;
  roles?: Array<string> | string | null | undefined;
}>;


export type CreateAccountMutation = { createAccount: { username: string | null } };

export type DisableAccountMutationVariables = Exact<{
  username: string;
  disabled?: boolean | null | undefined;
}>;


export type DisableAccountMutation = { disableAccount: boolean };

export type DeleteAccountMutationVariables = Exact<{
  username: string;
}>;


export type DeleteAccountMutation = { deleteAccount: boolean };

export type GrantMutationVariables = Exact<{
  subject: string;
  kind: string;
  resource: string;
  actions: Array<string> | string;
}>;


export type GrantMutation = { grant: { subject: string, kind: string, resource: string, actions: Array<string>, grantedBy: string | null } };

export type RevokeMutationVariables = Exact<{
  subject: string;
  kind: string;
  resource: string;
  actions?: Array<string> | string | null | undefined;
}>;


export type RevokeMutation = { revoke: { subject: string, kind: string, resource: string, actions: Array<string>, grantedBy: string | null } | null };

export type SetPublicMutationVariables = Exact<{
  id: string | number;
  public: boolean;
}>;


export type SetPublicMutation = { setPublic: { id: string, public: boolean } };

export type CapabilitiesQueryVariables = Exact<{ [key: string]: never; }>;


export type CapabilitiesQuery = { __schema: { queryType: { name: string | null }, mutationType: { name: string | null } | null, subscriptionType: { name: string | null } | null, types: Array<{ name: string | null, fields: Array<{ name: string, args: Array<{ name: string }> }> | null, inputFields: Array<{ name: string }> | null }> } };

export type ParameterFieldsFragment = { name: string, type: string, default: any, description: string | null, range: Array<number> | null, choices: Array<any> | null, display: string | null };

export type CatalogQueryVariables = Exact<{ [key: string]: never; }>;


export type CatalogQuery = { models: Array<{ name: string, kind: string, description: string | null, trainable: boolean, modes: Array<RunMode>, checkpointable: boolean, error: string | null, inputModalities: any, outputModalities: any, permissions: Array<string>, parameters: Array<{ name: string, type: string, default: any, description: string | null, range: Array<number> | null, choices: Array<any> | null, display: string | null }> }>, environments: Array<{ name: string, kind: string, description: string | null, error: string | null, observationModalities: any, actionModalities: any, permissions: Array<string>, parameters: Array<{ name: string, type: string, default: any, description: string | null, range: Array<number> | null, choices: Array<any> | null, display: string | null }> }> };

export type LaunchMutationVariables = Exact<{
  input: LaunchInput;
}>;


export type LaunchMutation = { launch: { id: string, status: InstanceStatus } };

export type InstanceBriefFragment = { id: string, status: InstanceStatus, mode: RunMode, step: number, episode: number };

export type PauseMutationVariables = Exact<{
  id: string | number;
}>;


export type PauseMutation = { pause: { id: string, status: InstanceStatus, mode: RunMode, step: number, episode: number } };

export type ResumeMutationVariables = Exact<{
  id: string | number;
}>;


export type ResumeMutation = { resume: { id: string, status: InstanceStatus, mode: RunMode, step: number, episode: number } };

export type TerminateMutationVariables = Exact<{
  id: string | number;
}>;


export type TerminateMutation = { terminate: { id: string, status: InstanceStatus, mode: RunMode, step: number, episode: number } };

export type EmergencyStopMutationVariables = Exact<{
  id: string | number;
}>;


export type EmergencyStopMutation = { emergencyStop: { id: string, status: InstanceStatus, mode: RunMode, step: number, episode: number } };

export type SetModeMutationVariables = Exact<{
  id: string | number;
  mode: RunMode;
}>;


export type SetModeMutation = { setMode: { id: string, status: InstanceStatus, mode: RunMode, step: number, episode: number } };

export type SetPaceMutationVariables = Exact<{
  id: string | number;
  pace?: number | null | undefined;
  realtime?: boolean | null | undefined;
}>;


export type SetPaceMutation = { setPace: { id: string, pace: number | null } };

export type SaveCheckpointMutationVariables = Exact<{
  id: string | number;
  tag?: string | null | undefined;
}>;


export type SaveCheckpointMutation = { saveCheckpoint: { id: string, tag: string, step: number, episode: number, createdAt: string, metrics: any, sizeBytes: number | null, gitTag: string | null, gitCommit: string | null, gitPushed: boolean | null, gitError: string | null, parent: { id: string } | null } };

export type RestoreCheckpointMutationVariables = Exact<{
  id: string | number;
  checkpoint: string | number;
}>;


export type RestoreCheckpointMutation = { restoreCheckpoint: { id: string, status: InstanceStatus, mode: RunMode, step: number, episode: number } };

export type OverrideMutationVariables = Exact<{
  id: string | number;
  input: OverrideInput;
}>;


export type OverrideMutation = { override: { id: string, target: string, takeover: string | null, active: boolean } };

export type ClearOverrideMutationVariables = Exact<{
  id: string | number;
  override: string | number;
}>;


export type ClearOverrideMutation = { clearOverride: boolean };

export type ActMutationVariables = Exact<{
  id: string | number;
  value?: any;
  target?: string | null | undefined;
}>;


export type ActMutation = { act: boolean };

export type RenewTakeoverMutationVariables = Exact<{
  id: string | number;
  override: string | number;
}>;


export type RenewTakeoverMutation = { renewTakeover: { id: string, holder: string | null, leaseExpiresAt: string | null } };

export type InstanceSummaryFieldsFragment = { id: string, status: InstanceStatus, mode: RunMode, step: number, episode: number, metrics: any, owner: string | null, createdAt: string, error: string | null, public: boolean, permissions: Array<string>, pace: number | null, stepsPerSecond: number | null, waitingFor: string | null, stopReason: string | null, model: { name: string }, environment: { name: string } | null };

export type CheckpointFieldsFragment = { id: string, tag: string, step: number, episode: number, createdAt: string, metrics: any, sizeBytes: number | null, gitTag: string | null, gitCommit: string | null, gitPushed: boolean | null, gitError: string | null, parent: { id: string } | null };

export type RecordingFieldsFragment = { id: string, instance: string, streams: Array<string>, status: string, steps: number, sizeBytes: number | null, startedAt: string, stoppedAt: string | null, chunks: number, cutShort: boolean, checkpoint: string | null, replayOf: string | null, downloadUrl: string, minariUrl: string, error: string | null };

export type OverrideFieldsFragment = { id: string, target: string, value: any, mode: string, takeover: string | null, active: boolean, setBy: string | null, createdAt: string, holder: string | null, leaseExpiresAt: string | null, holdSeconds: number | null };

export type InstancesQueryVariables = Exact<{ [key: string]: never; }>;


export type InstancesQuery = { instances: Array<{ id: string, status: InstanceStatus, mode: RunMode, step: number, episode: number, metrics: any, owner: string | null, createdAt: string, error: string | null, public: boolean, permissions: Array<string>, pace: number | null, stepsPerSecond: number | null, waitingFor: string | null, stopReason: string | null, model: { name: string }, environment: { name: string } | null }> };

export type InstanceQueryVariables = Exact<{
  id: string | number;
}>;


export type InstanceQuery = { instance: { modes: Array<RunMode>, parameters: any, seed: number | null, architecture: any, id: string, status: InstanceStatus, mode: RunMode, step: number, episode: number, metrics: any, owner: string | null, createdAt: string, error: string | null, public: boolean, permissions: Array<string>, pace: number | null, stepsPerSecond: number | null, waitingFor: string | null, stopReason: string | null, model: { name: string, kind: string, trainable: boolean, checkpointable: boolean, modes: Array<RunMode>, permissions: Array<string> }, environment: { name: string, observationModalities: any, actionModalities: any } | null, checkpoints: Array<{ id: string, tag: string, step: number, episode: number, createdAt: string, metrics: any, sizeBytes: number | null, gitTag: string | null, gitCommit: string | null, gitPushed: boolean | null, gitError: string | null, parent: { id: string } | null }>, recordings: Array<{ id: string, instance: string, streams: Array<string>, status: string, steps: number, sizeBytes: number | null, startedAt: string, stoppedAt: string | null, chunks: number, cutShort: boolean, checkpoint: string | null, replayOf: string | null, downloadUrl: string, minariUrl: string, error: string | null }>, overrides: Array<{ id: string, target: string, value: any, mode: string, takeover: string | null, active: boolean, setBy: string | null, createdAt: string, holder: string | null, leaseExpiresAt: string | null, holdSeconds: number | null }>, headCheckpoint: { id: string } | null, parentCheckpoint: { id: string } | null } | null };

export type MetricHistoryQueryVariables = Exact<{
  ids: Array<string | number> | string | number;
  names?: Array<string> | string | null | undefined;
  maxPoints?: number | null | undefined;
}>;


export type MetricHistoryQuery = { metricHistory: Array<{ instance: string, name: string, steps: Array<number>, times: Array<number>, values: Array<number | null> }> };

export type LogsQueryVariables = Exact<{
  id: string | number;
  tail?: number | null | undefined;
}>;


export type LogsQuery = { logs: Array<{ time: number, stream: string, text: string }> };

export type LogLinesSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type LogLinesSubscription = { logs: { time: number, stream: string, text: string } };

export type EventsSubscriptionVariables = Exact<{
  id?: string | number | null | undefined;
}>;


export type EventsSubscription = { instanceEvents: { instance: string, kind: string, status: InstanceStatus | null, mode: RunMode | null, message: string | null, time: number } };

export type TelemetrySubscriptionVariables = Exact<{
  id: string | number;
  streams?: Array<string> | string | null | undefined;
  maxHz?: number | null | undefined;
}>;


export type TelemetrySubscription = { telemetry: { instance: string, step: number, time: number, episode: number | null, dropped: number | null, streams: any } };

export type ReplayFieldsFragment = { id: string, recording: string, instance: string, status: string, steps: number, mode: string, totalSteps: number | null, checkpoint: string | null, error: string | null, outputRecording: { id: string } | null };

export type StartRecordingMutationVariables = Exact<{
  id: string | number;
  streams?: Array<string> | string | null | undefined;
}>;


export type StartRecordingMutation = { startRecording: { id: string, instance: string, streams: Array<string>, status: string, steps: number, sizeBytes: number | null, startedAt: string, stoppedAt: string | null, chunks: number, cutShort: boolean, checkpoint: string | null, replayOf: string | null, downloadUrl: string, minariUrl: string, error: string | null } };

export type StopRecordingMutationVariables = Exact<{
  recording: string | number;
}>;


export type StopRecordingMutation = { stopRecording: { id: string, instance: string, streams: Array<string>, status: string, steps: number, sizeBytes: number | null, startedAt: string, stoppedAt: string | null, chunks: number, cutShort: boolean, checkpoint: string | null, replayOf: string | null, downloadUrl: string, minariUrl: string, error: string | null } };

export type ReplayOpenLoopMutationVariables = Exact<{
  id: string | number;
  recording: string | number;
}>;


export type ReplayOpenLoopMutation = { replay: { id: string, recording: string, instance: string, status: string, steps: number, mode: string, totalSteps: number | null, checkpoint: string | null, error: string | null, outputRecording: { id: string } | null } };

export type ReplayClosedLoopMutationVariables = Exact<{
  id: string | number;
  recording: string | number;
}>;


export type ReplayClosedLoopMutation = { replayClosedLoop: { id: string, recording: string, instance: string, status: string, steps: number, mode: string, totalSteps: number | null, checkpoint: string | null, error: string | null, outputRecording: { id: string } | null } };

export type ReplayStatusQueryVariables = Exact<{
  id: string | number;
}>;


export type ReplayStatusQuery = { replay: { id: string, recording: string, instance: string, status: string, steps: number, mode: string, totalSteps: number | null, checkpoint: string | null, error: string | null, outputRecording: { id: string } | null } | null };

export type ReplayComparisonQueryVariables = Exact<{
  id: string | number;
  limit?: number | null | undefined;
}>;


export type ReplayComparisonQuery = { replay: { comparison: any } | null };

export type CompareRecordingsQueryVariables = Exact<{
  recorded: string | number;
  replayed: string | number;
  streams?: Array<string> | string | null | undefined;
  limit?: number | null | undefined;
}>;


export type CompareRecordingsQuery = { compareRecordings: any };

export type ViewerFieldsFragment = { username: string | null, roles: Array<string>, permissions: any, globalPermissions: Array<ViewerPermission> };

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { username: string | null, roles: Array<string>, permissions: any, globalPermissions: Array<ViewerPermission> } };

export type AuthProvidersQueryVariables = Exact<{ [key: string]: never; }>;


export type AuthProvidersQuery = { authProviders: Array<{ type: string, name: string, canCreateAccount: boolean | null, clientId: string | null, authorizePath: string | null }> };

export type LoginMutationVariables = Exact<{
  username: string;
  password: string;
}>;


export type LoginMutation = { login: { token: string, expiresAt: string, viewer: { username: string | null, roles: Array<string>, permissions: any, globalPermissions: Array<ViewerPermission> } } };

export type SignInWithGoogleMutationVariables = Exact<{
  idToken: string;
  provider?: string | null | undefined;
}>;


export type SignInWithGoogleMutation = { signInWithGoogle: { token: string, expiresAt: string, viewer: { username: string | null, roles: Array<string>, permissions: any, globalPermissions: Array<ViewerPermission> } } };

export type CreateOwnAccountMutationVariables = Exact<{
  username: string;
  password: string;
}>;


export type CreateOwnAccountMutation = { createAccount: { username: string | null } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const AccountFieldsFragmentDoc = new TypedDocumentString(`
    fragment AccountFields on Account {
  username
  provider
  email
  disabled
  createdAt
  roles
}
    `, {"fragmentName":"AccountFields"}) as unknown as TypedDocumentString<AccountFieldsFragment, unknown>;
export const GrantFieldsFragmentDoc = new TypedDocumentString(`
    fragment GrantFields on Grant {
  subject
  kind
  resource
  actions
  grantedBy
}
    `, {"fragmentName":"GrantFields"}) as unknown as TypedDocumentString<GrantFieldsFragment, unknown>;
export const ParameterFieldsFragmentDoc = new TypedDocumentString(`
    fragment ParameterFields on Parameter {
  name
  type
  default
  description
  range
  choices
  display
}
    `, {"fragmentName":"ParameterFields"}) as unknown as TypedDocumentString<ParameterFieldsFragment, unknown>;
export const InstanceBriefFragmentDoc = new TypedDocumentString(`
    fragment InstanceBrief on Instance {
  id
  status
  mode
  step
  episode
}
    `, {"fragmentName":"InstanceBrief"}) as unknown as TypedDocumentString<InstanceBriefFragment, unknown>;
export const InstanceSummaryFieldsFragmentDoc = new TypedDocumentString(`
    fragment InstanceSummaryFields on Instance {
  id
  status
  mode
  step
  episode
  metrics
  owner
  createdAt
  error
  public
  permissions
  pace
  stepsPerSecond
  waitingFor
  stopReason
  model {
    name
  }
  environment {
    name
  }
}
    `, {"fragmentName":"InstanceSummaryFields"}) as unknown as TypedDocumentString<InstanceSummaryFieldsFragment, unknown>;
export const CheckpointFieldsFragmentDoc = new TypedDocumentString(`
    fragment CheckpointFields on Checkpoint {
  id
  tag
  step
  episode
  createdAt
  metrics
  sizeBytes
  parent {
    id
  }
  gitTag
  gitCommit
  gitPushed
  gitError
}
    `, {"fragmentName":"CheckpointFields"}) as unknown as TypedDocumentString<CheckpointFieldsFragment, unknown>;
export const RecordingFieldsFragmentDoc = new TypedDocumentString(`
    fragment RecordingFields on Recording {
  id
  instance
  streams
  status
  steps
  sizeBytes
  startedAt
  stoppedAt
  chunks
  cutShort
  checkpoint
  replayOf
  downloadUrl
  minariUrl
  error
}
    `, {"fragmentName":"RecordingFields"}) as unknown as TypedDocumentString<RecordingFieldsFragment, unknown>;
export const OverrideFieldsFragmentDoc = new TypedDocumentString(`
    fragment OverrideFields on Override {
  id
  target
  value
  mode
  takeover
  active
  setBy
  createdAt
  holder
  leaseExpiresAt
  holdSeconds
}
    `, {"fragmentName":"OverrideFields"}) as unknown as TypedDocumentString<OverrideFieldsFragment, unknown>;
export const ReplayFieldsFragmentDoc = new TypedDocumentString(`
    fragment ReplayFields on Replay {
  id
  recording
  instance
  status
  steps
  mode
  totalSteps
  checkpoint
  error
  outputRecording {
    id
  }
}
    `, {"fragmentName":"ReplayFields"}) as unknown as TypedDocumentString<ReplayFieldsFragment, unknown>;
export const ViewerFieldsFragmentDoc = new TypedDocumentString(`
    fragment ViewerFields on Viewer {
  username
  roles
  permissions
  globalPermissions
}
    `, {"fragmentName":"ViewerFields"}) as unknown as TypedDocumentString<ViewerFieldsFragment, unknown>;
export const AccountsDocument = new TypedDocumentString(`
    query Accounts {
  users {
    ...AccountFields
  }
}
    fragment AccountFields on Account {
  username
  provider
  email
  disabled
  createdAt
  roles
}`) as unknown as TypedDocumentString<AccountsQuery, AccountsQueryVariables>;
export const GrantsDocument = new TypedDocumentString(`
    query Grants {
  grants {
    ...GrantFields
  }
}
    fragment GrantFields on Grant {
  subject
  kind
  resource
  actions
  grantedBy
}`) as unknown as TypedDocumentString<GrantsQuery, GrantsQueryVariables>;
export const SetRolesDocument = new TypedDocumentString(`
    mutation SetRoles($username: String!, $roles: [String!]!) {
  setRoles(username: $username, roles: $roles)
}
    `) as unknown as TypedDocumentString<SetRolesMutation, SetRolesMutationVariables>;
export const CreateAccountDocument = new TypedDocumentString(`
    mutation CreateAccount($username: String!, $password: String!, $roles: [String!]) {
  createAccount(username: $username, password: $password, roles: $roles) {
    username
  }
}
    `) as unknown as TypedDocumentString<CreateAccountMutation, CreateAccountMutationVariables>;
export const DisableAccountDocument = new TypedDocumentString(`
    mutation DisableAccount($username: String!, $disabled: Boolean) {
  disableAccount(username: $username, disabled: $disabled)
}
    `) as unknown as TypedDocumentString<DisableAccountMutation, DisableAccountMutationVariables>;
export const DeleteAccountDocument = new TypedDocumentString(`
    mutation DeleteAccount($username: String!) {
  deleteAccount(username: $username)
}
    `) as unknown as TypedDocumentString<DeleteAccountMutation, DeleteAccountMutationVariables>;
export const GrantDocument = new TypedDocumentString(`
    mutation Grant($subject: String!, $kind: String!, $resource: String!, $actions: [String!]!) {
  grant(subject: $subject, kind: $kind, resource: $resource, actions: $actions) {
    ...GrantFields
  }
}
    fragment GrantFields on Grant {
  subject
  kind
  resource
  actions
  grantedBy
}`) as unknown as TypedDocumentString<GrantMutation, GrantMutationVariables>;
export const RevokeDocument = new TypedDocumentString(`
    mutation Revoke($subject: String!, $kind: String!, $resource: String!, $actions: [String!]) {
  revoke(subject: $subject, kind: $kind, resource: $resource, actions: $actions) {
    ...GrantFields
  }
}
    fragment GrantFields on Grant {
  subject
  kind
  resource
  actions
  grantedBy
}`) as unknown as TypedDocumentString<RevokeMutation, RevokeMutationVariables>;
export const SetPublicDocument = new TypedDocumentString(`
    mutation SetPublic($id: ID!, $public: Boolean!) {
  setPublic(id: $id, public: $public) {
    id
    public
  }
}
    `) as unknown as TypedDocumentString<SetPublicMutation, SetPublicMutationVariables>;
export const CapabilitiesDocument = new TypedDocumentString(`
    query Capabilities {
  __schema {
    queryType {
      name
    }
    mutationType {
      name
    }
    subscriptionType {
      name
    }
    types {
      name
      fields {
        name
        args {
          name
        }
      }
      inputFields {
        name
      }
    }
  }
}
    `) as unknown as TypedDocumentString<CapabilitiesQuery, CapabilitiesQueryVariables>;
export const CatalogDocument = new TypedDocumentString(`
    query Catalog {
  models {
    name
    kind
    description
    trainable
    modes
    checkpointable
    error
    inputModalities
    outputModalities
    permissions
    parameters {
      ...ParameterFields
    }
  }
  environments {
    name
    kind
    description
    error
    observationModalities
    actionModalities
    permissions
    parameters {
      ...ParameterFields
    }
  }
}
    fragment ParameterFields on Parameter {
  name
  type
  default
  description
  range
  choices
  display
}`) as unknown as TypedDocumentString<CatalogQuery, CatalogQueryVariables>;
export const LaunchDocument = new TypedDocumentString(`
    mutation Launch($input: LaunchInput!) {
  launch(input: $input) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<LaunchMutation, LaunchMutationVariables>;
export const PauseDocument = new TypedDocumentString(`
    mutation Pause($id: ID!) {
  pause(id: $id) {
    ...InstanceBrief
  }
}
    fragment InstanceBrief on Instance {
  id
  status
  mode
  step
  episode
}`) as unknown as TypedDocumentString<PauseMutation, PauseMutationVariables>;
export const ResumeDocument = new TypedDocumentString(`
    mutation Resume($id: ID!) {
  resume(id: $id) {
    ...InstanceBrief
  }
}
    fragment InstanceBrief on Instance {
  id
  status
  mode
  step
  episode
}`) as unknown as TypedDocumentString<ResumeMutation, ResumeMutationVariables>;
export const TerminateDocument = new TypedDocumentString(`
    mutation Terminate($id: ID!) {
  terminate(id: $id) {
    ...InstanceBrief
  }
}
    fragment InstanceBrief on Instance {
  id
  status
  mode
  step
  episode
}`) as unknown as TypedDocumentString<TerminateMutation, TerminateMutationVariables>;
export const EmergencyStopDocument = new TypedDocumentString(`
    mutation EmergencyStop($id: ID!) {
  emergencyStop(id: $id) {
    ...InstanceBrief
  }
}
    fragment InstanceBrief on Instance {
  id
  status
  mode
  step
  episode
}`) as unknown as TypedDocumentString<EmergencyStopMutation, EmergencyStopMutationVariables>;
export const SetModeDocument = new TypedDocumentString(`
    mutation SetMode($id: ID!, $mode: RunMode!) {
  setMode(id: $id, mode: $mode) {
    ...InstanceBrief
  }
}
    fragment InstanceBrief on Instance {
  id
  status
  mode
  step
  episode
}`) as unknown as TypedDocumentString<SetModeMutation, SetModeMutationVariables>;
export const SetPaceDocument = new TypedDocumentString(`
    mutation SetPace($id: ID!, $pace: Float, $realtime: Boolean) {
  setPace(id: $id, pace: $pace, realtime: $realtime) {
    id
    pace
  }
}
    `) as unknown as TypedDocumentString<SetPaceMutation, SetPaceMutationVariables>;
export const SaveCheckpointDocument = new TypedDocumentString(`
    mutation SaveCheckpoint($id: ID!, $tag: String) {
  saveCheckpoint(id: $id, tag: $tag) {
    ...CheckpointFields
  }
}
    fragment CheckpointFields on Checkpoint {
  id
  tag
  step
  episode
  createdAt
  metrics
  sizeBytes
  parent {
    id
  }
  gitTag
  gitCommit
  gitPushed
  gitError
}`) as unknown as TypedDocumentString<SaveCheckpointMutation, SaveCheckpointMutationVariables>;
export const RestoreCheckpointDocument = new TypedDocumentString(`
    mutation RestoreCheckpoint($id: ID!, $checkpoint: ID!) {
  restoreCheckpoint(id: $id, checkpoint: $checkpoint) {
    ...InstanceBrief
  }
}
    fragment InstanceBrief on Instance {
  id
  status
  mode
  step
  episode
}`) as unknown as TypedDocumentString<RestoreCheckpointMutation, RestoreCheckpointMutationVariables>;
export const OverrideDocument = new TypedDocumentString(`
    mutation Override($id: ID!, $input: OverrideInput!) {
  override(id: $id, input: $input) {
    id
    target
    takeover
    active
  }
}
    `) as unknown as TypedDocumentString<OverrideMutation, OverrideMutationVariables>;
export const ClearOverrideDocument = new TypedDocumentString(`
    mutation ClearOverride($id: ID!, $override: ID!) {
  clearOverride(id: $id, override: $override)
}
    `) as unknown as TypedDocumentString<ClearOverrideMutation, ClearOverrideMutationVariables>;
export const ActDocument = new TypedDocumentString(`
    mutation Act($id: ID!, $value: JSON, $target: String) {
  act(id: $id, value: $value, target: $target)
}
    `) as unknown as TypedDocumentString<ActMutation, ActMutationVariables>;
export const RenewTakeoverDocument = new TypedDocumentString(`
    mutation RenewTakeover($id: ID!, $override: ID!) {
  renewTakeover(id: $id, override: $override) {
    id
    holder
    leaseExpiresAt
  }
}
    `) as unknown as TypedDocumentString<RenewTakeoverMutation, RenewTakeoverMutationVariables>;
export const InstancesDocument = new TypedDocumentString(`
    query Instances {
  instances {
    ...InstanceSummaryFields
  }
}
    fragment InstanceSummaryFields on Instance {
  id
  status
  mode
  step
  episode
  metrics
  owner
  createdAt
  error
  public
  permissions
  pace
  stepsPerSecond
  waitingFor
  stopReason
  model {
    name
  }
  environment {
    name
  }
}`) as unknown as TypedDocumentString<InstancesQuery, InstancesQueryVariables>;
export const InstanceDocument = new TypedDocumentString(`
    query Instance($id: ID!) {
  instance(id: $id) {
    ...InstanceSummaryFields
    modes
    parameters
    seed
    architecture
    model {
      name
      kind
      trainable
      checkpointable
      modes
      permissions
    }
    environment {
      name
      observationModalities
      actionModalities
    }
    checkpoints {
      ...CheckpointFields
    }
    recordings {
      ...RecordingFields
    }
    overrides {
      ...OverrideFields
    }
    headCheckpoint {
      id
    }
    parentCheckpoint {
      id
    }
  }
}
    fragment InstanceSummaryFields on Instance {
  id
  status
  mode
  step
  episode
  metrics
  owner
  createdAt
  error
  public
  permissions
  pace
  stepsPerSecond
  waitingFor
  stopReason
  model {
    name
  }
  environment {
    name
  }
}
fragment CheckpointFields on Checkpoint {
  id
  tag
  step
  episode
  createdAt
  metrics
  sizeBytes
  parent {
    id
  }
  gitTag
  gitCommit
  gitPushed
  gitError
}
fragment RecordingFields on Recording {
  id
  instance
  streams
  status
  steps
  sizeBytes
  startedAt
  stoppedAt
  chunks
  cutShort
  checkpoint
  replayOf
  downloadUrl
  minariUrl
  error
}
fragment OverrideFields on Override {
  id
  target
  value
  mode
  takeover
  active
  setBy
  createdAt
  holder
  leaseExpiresAt
  holdSeconds
}`) as unknown as TypedDocumentString<InstanceQuery, InstanceQueryVariables>;
export const MetricHistoryDocument = new TypedDocumentString(`
    query MetricHistory($ids: [ID!]!, $names: [String!], $maxPoints: Int) {
  metricHistory(ids: $ids, names: $names, maxPoints: $maxPoints) {
    instance
    name
    steps
    times
    values
  }
}
    `) as unknown as TypedDocumentString<MetricHistoryQuery, MetricHistoryQueryVariables>;
export const LogsDocument = new TypedDocumentString(`
    query Logs($id: ID!, $tail: Int) {
  logs(id: $id, tail: $tail) {
    time
    stream
    text
  }
}
    `) as unknown as TypedDocumentString<LogsQuery, LogsQueryVariables>;
export const LogLinesDocument = new TypedDocumentString(`
    subscription LogLines($id: ID!) {
  logs(id: $id) {
    time
    stream
    text
  }
}
    `) as unknown as TypedDocumentString<LogLinesSubscription, LogLinesSubscriptionVariables>;
export const EventsDocument = new TypedDocumentString(`
    subscription Events($id: ID) {
  instanceEvents(id: $id) {
    instance
    kind
    status
    mode
    message
    time
  }
}
    `) as unknown as TypedDocumentString<EventsSubscription, EventsSubscriptionVariables>;
export const TelemetryDocument = new TypedDocumentString(`
    subscription Telemetry($id: ID!, $streams: [String!], $maxHz: Float) {
  telemetry(id: $id, streams: $streams, maxHz: $maxHz) {
    instance
    step
    time
    episode
    dropped
    streams
  }
}
    `) as unknown as TypedDocumentString<TelemetrySubscription, TelemetrySubscriptionVariables>;
export const StartRecordingDocument = new TypedDocumentString(`
    mutation StartRecording($id: ID!, $streams: [String!]) {
  startRecording(id: $id, streams: $streams) {
    ...RecordingFields
  }
}
    fragment RecordingFields on Recording {
  id
  instance
  streams
  status
  steps
  sizeBytes
  startedAt
  stoppedAt
  chunks
  cutShort
  checkpoint
  replayOf
  downloadUrl
  minariUrl
  error
}`) as unknown as TypedDocumentString<StartRecordingMutation, StartRecordingMutationVariables>;
export const StopRecordingDocument = new TypedDocumentString(`
    mutation StopRecording($recording: ID!) {
  stopRecording(recording: $recording) {
    ...RecordingFields
  }
}
    fragment RecordingFields on Recording {
  id
  instance
  streams
  status
  steps
  sizeBytes
  startedAt
  stoppedAt
  chunks
  cutShort
  checkpoint
  replayOf
  downloadUrl
  minariUrl
  error
}`) as unknown as TypedDocumentString<StopRecordingMutation, StopRecordingMutationVariables>;
export const ReplayOpenLoopDocument = new TypedDocumentString(`
    mutation ReplayOpenLoop($id: ID!, $recording: ID!) {
  replay(id: $id, recording: $recording) {
    ...ReplayFields
  }
}
    fragment ReplayFields on Replay {
  id
  recording
  instance
  status
  steps
  mode
  totalSteps
  checkpoint
  error
  outputRecording {
    id
  }
}`) as unknown as TypedDocumentString<ReplayOpenLoopMutation, ReplayOpenLoopMutationVariables>;
export const ReplayClosedLoopDocument = new TypedDocumentString(`
    mutation ReplayClosedLoop($id: ID!, $recording: ID!) {
  replayClosedLoop(id: $id, recording: $recording) {
    ...ReplayFields
  }
}
    fragment ReplayFields on Replay {
  id
  recording
  instance
  status
  steps
  mode
  totalSteps
  checkpoint
  error
  outputRecording {
    id
  }
}`) as unknown as TypedDocumentString<ReplayClosedLoopMutation, ReplayClosedLoopMutationVariables>;
export const ReplayStatusDocument = new TypedDocumentString(`
    query ReplayStatus($id: ID!) {
  replay(id: $id) {
    ...ReplayFields
  }
}
    fragment ReplayFields on Replay {
  id
  recording
  instance
  status
  steps
  mode
  totalSteps
  checkpoint
  error
  outputRecording {
    id
  }
}`) as unknown as TypedDocumentString<ReplayStatusQuery, ReplayStatusQueryVariables>;
export const ReplayComparisonDocument = new TypedDocumentString(`
    query ReplayComparison($id: ID!, $limit: Int) {
  replay(id: $id) {
    comparison(limit: $limit)
  }
}
    `) as unknown as TypedDocumentString<ReplayComparisonQuery, ReplayComparisonQueryVariables>;
export const CompareRecordingsDocument = new TypedDocumentString(`
    query CompareRecordings($recorded: ID!, $replayed: ID!, $streams: [String!], $limit: Int) {
  compareRecordings(
    recorded: $recorded
    replayed: $replayed
    streams: $streams
    limit: $limit
  )
}
    `) as unknown as TypedDocumentString<CompareRecordingsQuery, CompareRecordingsQueryVariables>;
export const MeDocument = new TypedDocumentString(`
    query Me {
  me {
    ...ViewerFields
  }
}
    fragment ViewerFields on Viewer {
  username
  roles
  permissions
  globalPermissions
}`) as unknown as TypedDocumentString<MeQuery, MeQueryVariables>;
export const AuthProvidersDocument = new TypedDocumentString(`
    query AuthProviders {
  authProviders {
    type
    name
    canCreateAccount
    clientId
    authorizePath
  }
}
    `) as unknown as TypedDocumentString<AuthProvidersQuery, AuthProvidersQueryVariables>;
export const LoginDocument = new TypedDocumentString(`
    mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) {
    token
    expiresAt
    viewer {
      ...ViewerFields
    }
  }
}
    fragment ViewerFields on Viewer {
  username
  roles
  permissions
  globalPermissions
}`) as unknown as TypedDocumentString<LoginMutation, LoginMutationVariables>;
export const SignInWithGoogleDocument = new TypedDocumentString(`
    mutation SignInWithGoogle($idToken: String!, $provider: String) {
  signInWithGoogle(idToken: $idToken, provider: $provider) {
    token
    expiresAt
    viewer {
      ...ViewerFields
    }
  }
}
    fragment ViewerFields on Viewer {
  username
  roles
  permissions
  globalPermissions
}`) as unknown as TypedDocumentString<SignInWithGoogleMutation, SignInWithGoogleMutationVariables>;
export const CreateOwnAccountDocument = new TypedDocumentString(`
    mutation CreateOwnAccount($username: String!, $password: String!) {
  createAccount(username: $username, password: $password) {
    username
  }
}
    `) as unknown as TypedDocumentString<CreateOwnAccountMutation, CreateOwnAccountMutationVariables>;