import * as v from 'valibot';

/**
 * valibot says of a field a strict object does not know "Invalid key: Expected never but received
 * "nameOnLetter"", which reads as a fault in Signet rather than in the request. Said plainly, with
 * the key in the error's path, a script's author sees at once that the field is misspelt or belongs
 * elsewhere (`consent.nameOnLetter`). Global to valibot, so set once for every runtime by createApp.
 */
export function useReadableValidationMessages(): void {
  v.setSpecificMessage(v.strictObject, (issue) =>
    issue.expected === 'never' ? 'is not a field here (check its spelling and where it belongs; the API reference is at /docs)' : `must be an object (received ${issue.received})`,
  );
}
