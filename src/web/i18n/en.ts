/**
 * The supporter pages' English copy, and the shape every other catalog must
 * match: a missing or extra key in ja.ts, ko.ts or zh.ts fails the type check.
 * `{name}` placeholders are filled by `interpolate` (src/web/i18n/index.ts).
 */
export const en = {
  languageName: 'English',
  skipLink: 'Skip to main content',
  languageNav: 'Language',
  footerRunBy: 'This campaign is run by {organisation}.',

  signatureCount: '{count} signatures',
  signatureProgress: '{count} of {goal} signatures',
  progressLabel: 'Progress toward the goal',
  targetsHeading: 'This petition is addressed to',
  recentHeading: 'Recent supporters',
  campaignLanguageNote: 'The campaign text below is in {language}.',

  formHeading: 'Sign the petition',
  optional: '(optional)',
  fieldName: 'Your name',
  fieldNameHint: 'Written on the letter only if you choose so below.',
  fieldEmail: 'Email address',
  fieldEmailHint: 'We email you a link to confirm your signature. Your address is never shown to anyone.',
  fieldCountry: 'Country or region',
  countryChoose: 'Choose…',
  fieldRegion: 'State, prefecture or province',
  fieldCity: 'City',
  fieldPostalCode: 'Postal code',
  fieldComment: 'Comment',
  fieldCommentHint: 'Up to 1,000 characters. Seen by the organisers only.',
  consentNameLegend: 'Your name on the letter',
  consentNameHelp: 'The letter lists the supporters who agree to be named. Everyone who signs is counted.',
  consentNameFull: 'My full name',
  consentNameInitials: 'My initials only',
  consentNameNone: 'Do not name me (I am counted, but not named)',
  consentPublicLegend: 'The public list on this page',
  consentPublicHelp: 'The list shows your country and a shortened name: the first word and the initial of the last (Jane Doe → Jane D.), or only the first character of a name in Chinese characters, kana or Hangul (山田 花子 → 山.).',
  consentPublicYes: 'Show me in the list',
  consentPublicNo: 'Do not show me',
  consentUpdatesLegend: 'News by email',
  consentUpdatesHelp: 'Occasional news about this campaign. Every email has a link to stop them.',
  consentUpdatesYes: 'Yes, send me news',
  consentUpdatesNo: 'No news, thank you',
  honeypotLabel: 'Leave this field empty',
  submit: 'Sign',

  privacyHeading: 'How your data is used',
  privacyController: '{organisation} collects and is responsible for your data.',
  privacyPurpose:
    'Your details are used only to confirm and count your signature, to deliver the petition to its recipients (naming you only as you chose above), and to send you news if you asked for it. They are not sold or given to anyone else.',
  privacyIp: 'To stop abuse, your IP address is kept only as a one-way keyed code, never as the address itself.',
  privacyRetention:
    'Your signature is kept for as long as this campaign and its letters need it, and is then deleted. An unconfirmed signature is never counted.',
  privacyRights: 'You may ask to see, correct or delete your data, or withdraw your consent, at any time: write to {contact}.',

  closedNotice: 'This campaign is closed and no longer takes signatures. Thank you for your support.',
  notYetOpenNotice: 'This campaign does not take signatures yet. Please come back later.',

  errorSummaryTitle: 'Please correct the following',
  errorNameRequired: 'Enter your name.',
  errorEmailInvalid: 'Enter an email address in the form name@example.com.',
  errorCountryRequired: 'Choose your country or region.',
  errorTooLong: 'This is too long: please shorten it.',
  errorControlCharacters: 'Remove line breaks and special characters from this field.',
  errorInvalid: 'Check this field.',
  errorTitlePrefix: 'Error: {title}',

  thanksTitle: 'Check your email',
  thanksBody: 'We have sent you an email with a link. Your signature counts only once you open the link and confirm it.',
  thanksSpam: 'If the email has not arrived in a few minutes, look in your spam folder.',
  backToCampaign: 'Back to the campaign',

  confirmTitle: 'Confirm your signature',
  confirmBody: 'Press the button to confirm your signature.',
  confirmButton: 'Confirm my signature',
  confirmedTitle: 'Thank you: your signature is confirmed',
  confirmedBody: 'Your signature now counts toward the campaign.',
  expiredTitle: 'This link has expired',
  expiredBody: 'Confirmation links work for a limited time. Please sign again to receive a new link.',
  signAgain: 'Sign again',
  unknownLinkTitle: 'Link not recognised',
  unknownConfirmBody: 'This confirmation link is not valid. Please use the link from the most recent email you received.',

  notFoundTitle: 'Page not found',
  notFoundBody: 'There is no page at this address, or it is no longer available.',
  forbiddenTitle: 'Please send the form again',
  forbiddenBody: 'For your security, this form has expired or came from another site. Go back, reload the page and send it again.',
  rateLimitedTitle: 'Too many attempts',
  rateLimitedBody: 'Too many signatures came from your connection in a short time. Please try again in a few minutes.',
  tooLargeTitle: 'The form is too large',
  tooLargeBody: 'Please shorten what you wrote and send the form again.',

  unsubscribeTitle: 'Unsubscribe from campaign updates',
  unsubscribeBody: 'Press the button to stop receiving update emails about this campaign. Your signature stays counted.',
  unsubscribeButton: 'Unsubscribe',
  unsubscribedTitle: 'You are unsubscribed',
  unsubscribedBody: 'You will receive no more update emails about this campaign. Your signature stays counted.',
  unknownUnsubscribeBody: 'This unsubscribe link is not valid. Please use the link from the most recent update email you received.',
} as const;

export type Messages = Record<keyof typeof en, string>;
