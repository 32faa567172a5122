import type { DashboardLanguage } from './texts.js';

/**
 * The services word their validation errors in English for the API (one error shape, machine codes
 * beside the text). A form in the Japanese dashboard shows them in Japanese: the messages a form can
 * produce are translated here, exactly or by pattern; anything not listed stays as the service
 * wrote it, which is still correct, only not translated.
 */
const exactJa: Record<string, string> = {
  'must not be empty': '入力してください',
  'is empty': '入力してください',
  'a name is needed': '名前を入力してください',
  'must be an email address': 'メールアドレスの形式で入力してください（例: info@example.org）',
  'must be an email address, or left empty': 'メールアドレスの形式で入力するか、空欄にしてください',
  'must be a web address such as https://example.org': 'https:// から始まるウェブアドレスを入力してください（例: https://example.org）',
  'must be 3-64 characters: a-z, 0-9 and -': '半角英小文字・数字・ハイフンで3〜64文字にしてください',
  'must be a campaign slug': 'キャンペーンのスラッグ（半角英小文字・数字・ハイフン）を入力してください',
  'is taken': 'すでに使われています',
  "is the shipped example's; give your organisation's own": 'Signet に同梱された例のままです。あなたの団体のものを入力してください',
  'is used by another target': 'ほかの宛先で使われています',
  'must be a whole number': '整数を入力してください',
  'must be one line': '1行で入力してください',
  'must be one line without control characters': '制御文字を含まない1行で入力してください',
  'must not contain control characters': '制御文字は使えません',
  'must have 1 to 6 lines': '1〜6行で入力してください',
  'must be an ISO 3166-1 alpha-2 country code, e.g. JP': '国は半角英字2文字のコードで入力してください（例: JP）',
  'must be an ISO 3166-2 region code, e.g. JP-13': '地域は ISO 3166-2 のコードで入力してください（例: JP-13）',
  'must be a region (ISO 3166-2 code) of the given country': '指定した国の地域コード（ISO 3166-2）を入力してください',
  'must be a region code (JP-13) or a region name (東京都, Tokyo)': '地域コード（JP-13）または地域名（東京都、Tokyo）を入力してください',
  'must be an IANA time zone, e.g. Asia/Tokyo': 'タイムゾーン名を入力してください（例: Asia/Tokyo）',
  'must be a real local date and time without an offset, e.g. 2027-09-22T09:00': '実在する日時を入力してください（例: 2027-09-22T09:00）',
  'must be a real local date and time without an offset, e.g. 2028-08-01T10:00': '実在する日時を入力してください（例: 2028-08-01T10:00）',
  'must be a local date and time without an offset, e.g. 2027-09-22T09:00': '日時を入力してください（例: 2027-09-22T09:00）',
  'must be a day, YYYY-MM-DD': '日付を YYYY-MM-DD の形式で入力してください',
  'must be a time HH:mm from 00:00 to 24:00': '時刻を 00:00〜24:00 の HH:mm で入力してください',
  'must be a time HH:mm from 00:00 to 23:59': '時刻を 00:00〜23:59 の HH:mm で入力してください',
  'must not be in the future': '未来の日時は指定できません',
  'is after today': '今日より後の日付は指定できません',
  'must not be after the send time': '送信日時より後にはできません',
  'must be after opensAt': '受付開始より後にしてください',
  'must be after start': '開始より後にしてください',
  'must be after from': '開始日時より後にしてください',
  'must be later than from': '開始日時より後にしてください',
  'must be at most 31 days after from': '開始日時から31日以内にしてください',
  'must name at least one day': '曜日を1つ以上選んでください',
  'must name at least one language': '言語を1つ以上選んでください',
  'name at least one language': '言語を1つ以上選んでください',
  'must name at least one target': '宛先を1つ以上選んでください',
  'must name at least one request': '対象を1つ以上選んでください',
  'must not name a day twice': '同じ曜日が2回指定されています',
  'must not name a language twice': '同じ言語が2回指定されています',
  'must not be your email address': 'ご自身のメールアドレスは使えません',
  'must be another campaign than the one supporters are invited to': '招待先とは別のキャンペーンを選んでください',
  'names a campaign that does not exist': '存在しないキャンペーンが指定されています',
  'names a campaign twice': '同じキャンペーンが2回指定されています',
  'give an organisation role or at least one campaign': '団体での役割を選ぶか、キャンペーンを1つ以上指定してください',
  'the target is not linked to this campaign': 'この宛先はこのキャンペーンに追加されていません',
  'an update needs a subject (or a template)': 'お知らせの件名を入力してください（またはテンプレートを指定）',
  'an update needs a Markdown body (or a template)': 'お知らせの本文を入力してください（またはテンプレートを指定）',
  'an update from a template takes its subject from the template': 'テンプレートを使うお知らせでは、件名はテンプレートから取られます（空欄にしてください）',
  'an update from a template takes its text from the template': 'テンプレートを使うお知らせでは、本文はテンプレートから取られます（空欄にしてください）',
  'letters take their subject from the letter template': '書簡の件名は書簡テンプレートから取られます（空欄にしてください）',
  'letters take their text from the letter template': '書簡の本文は書簡テンプレートから取られます（空欄にしてください）',
  'only letters have a channel; updates go by email': '送付方法は書簡だけに指定できます（お知らせはメールで送られます）',
  'only letters by email have a sending window': '送信時間帯はメールで送る書簡だけに指定できます',
  'only letters to targets have a sending window': '送信時間帯は宛先への書簡だけに指定できます',
  'only letters to targets are routed; an update goes to every consenting supporter': '振り分けは宛先への書簡だけに指定できます（お知らせは同意したすべての賛同者に送られます）',
  'only letters go to targets; an update goes to every consenting supporter': '宛先は書簡だけに指定できます（お知らせは同意したすべての賛同者に送られます）',
  'a country is needed (or give a default country with the import)': '国を入力してください（または取り込み時に既定の国を指定）',
  'must be printed, posted, delivered or returned': '印刷済み・発送済み・配達済み・返送のいずれかを選んでください',
  'can only be given with status posted': '「発送済み」のときだけ入力できます',
};

/** Messages with a number or a list in them. */
const patternsJa: readonly [RegExp, (match: RegExpExecArray) => string][] = [
  [/^must be at most (\d+) characters$/, (m) => `${m[1]}文字以内で入力してください`],
  [/^must be at least (\d+) characters$/, (m) => `${m[1]}文字以上で入力してください`],
  [/^must have at most (\d+) region codes$/, (m) => `地域コードは${m[1]}個までです`],
  // valibot's own wording, where a schema gives none.
  [/^Invalid length: Expected <=(\d+) but received \d+$/, (m) => `${m[1]}文字以内で入力してください`],
  [/^Invalid length: Expected >=(\d+) but received \d+$/, (m) => (m[1] === '1' ? '入力してください' : `${m[1]}文字以上で入力してください`)],
  [/^Invalid value: Expected <=(\d+) but received .+$/, (m) => `${m[1]}以下の数を入力してください`],
  [/^Invalid value: Expected >=(\d+) but received .+$/, (m) => `${m[1]}以上の数を入力してください`],
  [/^Invalid email: /, () => 'メールアドレスの形式で入力してください（例: info@example.org）'],
  [/^Invalid URL: /, () => 'https:// から始まるウェブアドレスを入力してください'],
  [/^Invalid type: Expected (\(.+\)|".+") but received .+$/, () => '選択肢から選んでください'],
  [/^Invalid type: Expected .+ but received undefined$/, () => '入力してください'],
  [/^is not a field here/, () => 'このフォームの項目ではありません'],
  [/^must be ([\w-]+(?:, [\w-]+)* or [\w-]+)(?: \(empty: \w+\))?$/, () => '選択肢から選んでください'],
];

/** A service's validation message in the dashboard's language. */
export function fieldMessage(language: DashboardLanguage, message: string): string {
  if (language === 'en') return message;
  const exact = exactJa[message];
  if (exact) return exact;
  for (const [pattern, text] of patternsJa) {
    const match = pattern.exec(message);
    if (match) return text(match);
  }
  return message;
}

/** The English messages translated word for word (for the test that each still occurs in the services). */
export const translatedFieldMessages: Readonly<Record<string, string>> = exactJa;
