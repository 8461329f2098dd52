// Top-level domains recognised for bare (scheme-less) links. Country codes plus the generic TLDs
// seen in SMS traffic; a scheme-qualified link is accepted with any TLD.
export const KNOWN_TLDS: ReadonlySet<string> = new Set(
  (
    'ac accountant ad ae af ag agency ai al am ao app aq ar art as asia at au autos aw ax az ba baby ' +
    'bank bar bb bd be beauty best bet bf bg bh bi bid bingo biz bj black blog blue bm bn bo boats ' +
    'bond br bs bt buzz bw by bz ca cam care cash casino cc cd center cf cfd cg ch ci ck cl click ' +
    'clinic cloud club cm cn co com company cr credit cricket cu cv cw cx cy cyou cz date de delivery ' +
    'dental dev digital dj dk dm do doctor download dz ec edu ee eg email er es et eu express faq ' +
    'fi finance fit fj fk fm fo fr fun fyi ga game games gd ge gf gg gh gi gl global gm gn gold gov ' +
    'gp gq gr green group gs gt gu guru gw gy hair health help hk hm hn homes host hr ht hu icu id ' +
    'ie il im in info ink insurance int io iq ir is it je jm jo jobs jp ke kg kh ki kim km kn kp ' +
    'kr kw ky kz la lawyer lb lc legal li life link live lk loan loans lol lr ls lt ltd lu lv ly ' +
    'ma makeup mc md me men mg mh mil mk ml mm mn mo mobi mom money monster motorcycles mp mq mr ' +
    'ms mt mu mv mw mx my mz na name nc ne net news nf ng ni nl no np nr nu nz om one online org ' +
    'pa page parcel party pe pf pg ph pharmacy pics pink pk pl pm pn poker post pr press pro ps pt ' +
    'pw py qa quest racing re red rest review ro rs ru run rw sa sb sbs sc science sd se services ' +
    'sg sh shipping shop si site sk skin sl sm sn so solutions space sr ss st store stream su support ' +
    'sv sx sy sz tax tc td tech tel tf tg th tj tk tl tm tn to today top tr trade travel tt tv tw ' +
    'tz ua ug uk uno us uy uz va vc ve vegas vg vi vip vn vu website wf win work world ws xin xyz ' +
    'yachts ye yt za zm zone zw '
  )
    .trim()
    .split(' '),
);

// Country codes that are also common English words: "ok.so" is a sentence, "ok.so/x" a link.
export const WORDLIKE_TLDS: ReadonlySet<string> = new Set(
  'am an as at be by do go he hi if in is it me my no of on or so to up us we'.split(' '),
);
