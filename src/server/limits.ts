/** Shortest token accepted: guessing one must stay out of reach. */
export const MIN_TOKEN_LENGTH = 16;
