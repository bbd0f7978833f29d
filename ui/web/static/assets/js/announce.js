// announce.js — the board's voice: one announcement at a time, in order,
// none skipped, each said twice (a board setting), spoken offline by the
// browser's own Chinese voice, or a chime and a flash where the machine has
// none that reads Chinese correctly.
//
// Wording: "请 A 零 二 三 号，到 5 号窗口办理". The ticket number is read
// letter and digit one by one (as halls do: a clerk's "A023" is heard as
// "A 零二三", never "A 二十三"); the window number is read as a number.
// Recalls start with "重呼". English, when enabled, follows the Chinese:
// "Number A 0 2 3, please go to window 5."

const zhDigits = '零一二三四五六七八九';

/** spellZH reads a ticket number letter by letter, digits in Chinese. */
export function spellZH(number) {
  return [...number].map((c) => (c >= '0' && c <= '9' ? zhDigits[c] : c)).join(' ');
}

/** callText is what is said for a call (or a recall) of ticket at window. */
export function callText(number, window, recall) {
  return `${recall ? '重呼，' : ''}请 ${spellZH(number)} 号，到 ${window} 号窗口办理`;
}

/** callTextEN is the English line. */
export function callTextEN(number, window) {
  return `Number ${[...number].join(' ')}, please go to window ${window}.`;
}

/**
 * Announcer plays announcements strictly one after another; each is said
 * `repeat` times (halls say every call twice) before the next one starts.
 * Each item is recorded in window.hallqAnnouncements when it starts to
 * play, and every line handed to the voice in window.hallqSpoken, so tests
 * (and a curious technician) see exactly what the hall heard, in order.
 */
export class Announcer {
  constructor({ english = false, repeat = 2, onFlash = () => {} } = {}) {
    this.english = english;
    this.repeat = repeat;
    this.onFlash = onFlash;
    this.muted = false;
    this.queue = [];
    this.busy = false;
    this.played = [];
    window.hallqAnnouncements = this.played;
    window.hallqSpoken = [];
  }

  /** add queues one announcement: texts [zh, en?]. */
  add(zh, en) {
    this.queue.push({ zh, en });
    this.next();
  }

  next() {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    const item = this.queue.shift();
    this.played.push(item.zh);
    this.onFlash(item);
    const done = () => {
      this.busy = false;
      this.next();
    };
    if (this.muted) {
      setTimeout(done, 300);
      return;
    }
    const voice = pickVoice('zh');
    if (!voice) {
      chime().then(done);
      return;
    }
    const once = [[item.zh, voice]];
    const en = this.english && item.en && pickVoice('en');
    if (en) once.push([item.en, en]);
    const lines = [];
    for (let i = 0; i < Math.max(1, this.repeat); i++) lines.push(...once);
    speakAll(lines).then(done);
  }
}

/**
 * voiceRank says how well a browser voice would read the board's Chinese:
 * higher is better, below 0 never. What matters is what a voice actually
 * says, not its language tag:
 *   - a proper Mandarin voice (zh-CN, zh-TW, cmn-Hans-CN …) reads it right;
 *     a mainland one first;
 *   - espeak-ng's "cmn-latn-pinyin" voice reads the characters correctly,
 *     if robotically: the fallback;
 *   - espeak-ng's plain "cmn" voice — "Chinese (Mandarin, latin as
 *     English)" — reads 请/零/三 by English rules ("king-three", "ling-two")
 *     and is never used, nor is any other "latin as English" voice;
 *   - a voice that needs the internet is not used: the hall LAN may have none.
 * docs/operations.md (boards) says which Debian packages give which voice.
 */
export function voiceRank(v, lang = 'zh') {
  if (!v.localService) return -1;
  const tag = String(v.lang || '').toLowerCase().replace(/_/g, '-');
  const name = String(v.name || '').toLowerCase();
  if (lang === 'en') return tag.startsWith('en') ? (/gb|us/.test(tag) ? 2 : 1) : -1;
  if (/latin.?as.?english/.test(name)) return -1;
  if (/pinyin/.test(tag + ' ' + name)) return 1;
  if (tag === 'cmn' || tag === 'zh' && /espeak/.test(name)) return -1;
  if (!/^(zh|cmn)(-|$)/.test(tag)) return -1;
  return 10 + (/cn|hans/.test(tag) ? 1 : 0);
}

function pickVoice(lang) {
  if (!('speechSynthesis' in window)) return null;
  let best = null;
  let rank = -1;
  for (const v of speechSynthesis.getVoices()) {
    const r = voiceRank(v, lang);
    if (r > rank) [best, rank] = [v, r];
  }
  return best;
}

// speakAll chains utterances through onend. A watchdog moves on if a voice
// never reports the end (some engines drop it), so the queue cannot stall.
function speakAll(lines) {
  return lines.reduce((p, [text, voice]) => p.then(() => speak(text, voice)), Promise.resolve());
}

function speak(text, voice) {
  return new Promise((resolve) => {
    const u = new SpeechSynthesisUtterance(text);
    u.voice = voice;
    u.lang = voice.lang;
    u.rate = 0.9;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(watchdog);
      resolve();
    };
    const watchdog = setTimeout(() => {
      speechSynthesis.cancel();
      finish();
    }, 3000 + text.length * 400);
    u.onend = finish;
    u.onerror = finish;
    window.hallqSpoken.push(text);
    speechSynthesis.speak(u);
  });
}

let audio = null;

/**
 * watchSound calls blocked() when the browser holds sound back until
 * someone touches the page (its autoplay policy; a board started with
 * --autoplay-policy=no-user-gesture-required is not held), then unblocked()
 * after the first tap or key press has let it through.
 */
export function watchSound(blocked, unblocked) {
  try {
    audio = audio || new AudioContext();
  } catch {
    return; // no audio at all: nothing a tap could change
  }
  if (audio.state === 'running') return;
  blocked();
  const unlock = () => audio.resume().then(() => {
    if (audio.state !== 'running') return;
    removeEventListener('pointerdown', unlock);
    removeEventListener('keydown', unlock);
    unblocked();
  });
  addEventListener('pointerdown', unlock);
  addEventListener('keydown', unlock);
}

// chime plays a two-tone bell (WebAudio oscillators) and resolves when it ends.
function chime() {
  return new Promise((resolve) => {
    try {
      audio = audio || new AudioContext();
      const t = audio.currentTime;
      [[784, 0], [523, 0.45]].forEach(([freq, at]) => {
        const o = audio.createOscillator();
        const g = audio.createGain();
        o.frequency.value = freq;
        g.gain.setValueAtTime(0.0001, t + at);
        g.gain.exponentialRampToValueAtTime(0.4, t + at + 0.03);
        g.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.9);
        o.connect(g).connect(audio.destination);
        o.start(t + at);
        o.stop(t + at + 0.95);
      });
    } catch {
      // no audio device: the flash still shows the call
    }
    setTimeout(resolve, 1500);
  });
}

// Voices load asynchronously in some browsers; asking early warms the list.
if ('speechSynthesis' in window) speechSynthesis.getVoices();
