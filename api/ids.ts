import { v7 } from 'uuid';

/** A UUIDv7; ids made in one millisecond still sort in the order they were made (uuid keeps a counter). */
export const uuid7 = (): string => v7();
