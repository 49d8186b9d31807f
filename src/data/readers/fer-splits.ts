/** FER2013's splits, as its `Usage` column names them. */
export const FER_SPLITS = ['Training', 'PublicTest', 'PrivateTest'] as const;
export type FerSplit = (typeof FER_SPLITS)[number];
