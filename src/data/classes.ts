/** Expression classes in Aff-Wild2 / ABAW order (0..6); ABAW3 and later add `Other` (7). */
export const AFFWILD2_CLASSES = [
  'Neutral',
  'Anger',
  'Disgust',
  'Fear',
  'Happiness',
  'Sadness',
  'Surprise',
] as const;
export const AFFWILD2_CLASSES_WITH_OTHER = [...AFFWILD2_CLASSES, 'Other'] as const;
