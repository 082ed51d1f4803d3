/** The `Int32Array` a store's writer and its checkpoint thread share: commits counted, and whether to stop. */
export const COMMITS = 0;
export const STOPPED = 1;
export const STATE_SLOTS = 2;
