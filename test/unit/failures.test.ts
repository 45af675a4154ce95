import { describe, expect, it } from 'vitest';
import { FailureType, isFailureType, permanentFailures } from '../../core/failures.js';

describe('failure types', () => {
  // Recorded workflow histories and stored run errors carry these strings: a rename breaks replay and clients.
  it('keeps the values that recorded histories carry', () => {
    expect(Object.values(FailureType).sort()).toEqual([
      'CheckpointNotFound',
      'FatalToolError',
      'GraphRecursionError',
      'InvalidCommand',
      'InvalidDecision',
      'InvalidGraphState',
      'InvalidUpdate',
      'MiddlewareNotRegistered',
      'ModelCallLimitExceededError',
      'ModelError',
      'ModelUnavailable',
      'NotInterrupted',
      'OpenAIModerationError',
      'PIIDetectionError',
      'RunNotActive',
      'SpendCapExceededError',
      'StaleHead',
      'ThreadBusy',
      'ThreadNotFound',
      'ToolCallLimitExceededError',
      'ToolFailed',
      'UnknownInterrupt',
      'WebhookRefused',
      'WebhookUnavailable',
    ]);
  });

  it('recognises only its own types', () => {
    expect(isFailureType('ThreadBusy')).toBe(true);
    expect(isFailureType('UnprocessedUpdate')).toBe(false);
    expect(isFailureType(undefined)).toBe(false);
    expect(permanentFailures.every(isFailureType)).toBe(true);
  });
});
