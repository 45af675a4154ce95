import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes on thread workflows, so operators can find threads in the Web UI and with
// `temporal workflow list --query "ThreadStatus='interrupted' AND GraphId='agent'"`.
export const ThreadStatusKey = defineSearchAttributeKey('ThreadStatus', SearchAttributeType.KEYWORD);
export const GraphIdKey = defineSearchAttributeKey('GraphId', SearchAttributeType.KEYWORD);
export const AssistantIdKey = defineSearchAttributeKey('AssistantId', SearchAttributeType.KEYWORD);

export const customSearchAttributes = [ThreadStatusKey, GraphIdKey, AssistantIdKey] as const;
