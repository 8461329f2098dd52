// What a call will say, as text to screen: the TwiML without its tags.

export function callText(twiml: string | undefined): string {
  return (twiml ?? '').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 10_000);
}
