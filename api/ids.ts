import { randomUUID } from 'node:crypto';
import { uuid7From } from '../core/ids.js';

export const uuid7 = (): string => uuid7From(Date.now(), randomUUID());
