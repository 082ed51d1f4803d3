import { z } from 'zod';
import { extractFeatures, scoreSignals, SIGNAL_RULES, type TextFeatures, type TriageSignal } from './triageSignals.ts';

export type { TriageSignal } from './triageSignals.ts';

/**
 * Triage decides how a session answers a query: `express` (one fast answer), `council` (several roles answer in
 * parallel and a synthesiser, which the session adds, merges them) or `emergency` (roles for a declared climate
 * emergency in the requester's region). The decision is recorded, so it must be explainable and must replay
 * identically: it is a pure function of the query, the active emergencies and the threshold, and it carries the
 * version of these rules.
 */
export const TRIAGE_RULES_VERSION = 'triage-rules@2';
export const DEFAULT_COUNCIL_THRESHOLD = 0.5;

export const EMERGENCY_KINDS = ['flood', 'drought', 'wildfire', 'cyclone', 'heatwave'] as const;
export type EmergencyKind = (typeof EMERGENCY_KINDS)[number];

export interface TriageInput { text: string; region: string; purpose: string }
export interface ActiveEmergency { emergencyId: string; region: string; kind: EmergencyKind; declaredAt: string }

export interface TriageDecision {
  mode: 'express' | 'council' | 'emergency';
  complexity: number;
  confidence: number;
  roles: string[];
  signals: TriageSignal[];
  rationale: string;
  emergency: { emergencyId: string; region: string; kind: EmergencyKind } | null;
  rulesVersion: string;
}

export interface TriageOptions { emergencies?: readonly ActiveEmergency[]; councilThreshold?: number }

/** Every council has these roles: one to work the problem, one to attack it, one who knows the field. */
export const COUNCIL_CORE_ROLES = ['analyst', 'critic', 'domain_expert'] as const;

/** The specialists each kind of emergency needs first. */
export const EMERGENCY_ROLES: Record<EmergencyKind, readonly string[]> = {
  flood: ['hydrologist', 'logistics', 'public_health'],
  drought: ['agronomist', 'water_engineer', 'food_security'],
  wildfire: ['fire_scientist', 'evacuation_logistics', 'air_quality'],
  cyclone: ['meteorologist', 'shelter_logistics', 'public_health'],
  heatwave: ['public_health', 'grid_operator', 'urban_cooling'],
};

/** Only these purposes switch to emergency mode: the others are not about responding to the emergency. */
export const EMERGENCY_PURPOSES: readonly string[] = ['disaster_response', 'climate_adaptation'];

const ROLE = /^[a-z][a-z0-9_]*$/;
const unit = z.number().min(0).max(1);

export const triageDecisionSchema: z.ZodType<TriageDecision> = z.strictObject({
  mode: z.enum(['express', 'council', 'emergency']),
  complexity: unit,
  confidence: unit,
  roles: z.array(z.string().regex(ROLE)).min(1).max(4),
  signals: z.array(z.strictObject({ name: z.string().min(1), value: unit, weight: unit, contribution: unit, detail: z.string() })),
  rationale: z.string().min(1),
  emergency: z.strictObject({ emergencyId: z.string(), region: z.string(), kind: z.enum(EMERGENCY_KINDS) }).nullable(),
  rulesVersion: z.string().min(1),
});

// ISO 3166-1 alpha-2 + alpha-3 pairs, copied from Debian's iso-codes 4.15.0 (iso_3166-1.json). The climate tables
// in ../climate only list the countries they need, and emergencies hit exactly the countries those tables leave out.
const ISO_3166_PAIRS =
  'ADAND AEARE AFAFG AGATG AIAIA ALALB AMARM AOAGO AQATA ARARG ASASM ATAUT AUAUS AWABW AXALA AZAZE BABIH BBBRB BDBGD ' +
  'BEBEL BFBFA BGBGR BHBHR BIBDI BJBEN BLBLM BMBMU BNBRN BOBOL BQBES BRBRA BSBHS BTBTN BVBVT BWBWA BYBLR BZBLZ CACAN ' +
  'CCCCK CDCOD CFCAF CGCOG CHCHE CICIV CKCOK CLCHL CMCMR CNCHN COCOL CRCRI CUCUB CVCPV CWCUW CXCXR CYCYP CZCZE DEDEU ' +
  'DJDJI DKDNK DMDMA DODOM DZDZA ECECU EEEST EGEGY EHESH ERERI ESESP ETETH FIFIN FJFJI FKFLK FMFSM FOFRO FRFRA GAGAB ' +
  'GBGBR GDGRD GEGEO GFGUF GGGGY GHGHA GIGIB GLGRL GMGMB GNGIN GPGLP GQGNQ GRGRC GSSGS GTGTM GUGUM GWGNB GYGUY HKHKG ' +
  'HMHMD HNHND HRHRV HTHTI HUHUN IDIDN IEIRL ILISR IMIMN ININD IOIOT IQIRQ IRIRN ISISL ITITA JEJEY JMJAM JOJOR JPJPN ' +
  'KEKEN KGKGZ KHKHM KIKIR KMCOM KNKNA KPPRK KRKOR KWKWT KYCYM KZKAZ LALAO LBLBN LCLCA LILIE LKLKA LRLBR LSLSO LTLTU ' +
  'LULUX LVLVA LYLBY MAMAR MCMCO MDMDA MEMNE MFMAF MGMDG MHMHL MKMKD MLMLI MMMMR MNMNG MOMAC MPMNP MQMTQ MRMRT MSMSR ' +
  'MTMLT MUMUS MVMDV MWMWI MXMEX MYMYS MZMOZ NANAM NCNCL NENER NFNFK NGNGA NINIC NLNLD NONOR NPNPL NRNRU NUNIU NZNZL ' +
  'OMOMN PAPAN PEPER PFPYF PGPNG PHPHL PKPAK PLPOL PMSPM PNPCN PRPRI PSPSE PTPRT PWPLW PYPRY QAQAT REREU ROROU RSSRB ' +
  'RURUS RWRWA SASAU SBSLB SCSYC SDSDN SESWE SGSGP SHSHN SISVN SJSJM SKSVK SLSLE SMSMR SNSEN SOSOM SRSUR SSSSD STSTP ' +
  'SVSLV SXSXM SYSYR SZSWZ TCTCA TDTCD TFATF TGTGO THTHA TJTJK TKTKL TLTLS TMTKM TNTUN TOTON TRTUR TTTTO TVTUV TWTWN ' +
  'TZTZA UAUKR UGUGA UMUMI USUSA UYURY UZUZB VAVAT VCVCT VEVEN VGVGB VIVIR VNVNM VUVUT WFWLF WSWSM YEYEM YTMYT ZAZAF ' +
  'ZMZMB ZWZWE';

/** Alpha-3 → alpha-2 for every ISO 3166-1 country. */
export const ALPHA3_TO_ALPHA2: ReadonlyMap<string, string> = new Map(
  ISO_3166_PAIRS.split(' ').map((pair) => [pair.slice(2), pair.slice(0, 2)] as const),
);

function canonicalRegion(code: string): string {
  const upper = code.trim().toUpperCase();
  return ALPHA3_TO_ALPHA2.get(upper) ?? upper;
}

/** "BD", "bd" and "BGD" are the same region; an empty code matches nothing. */
export function sameRegion(a: string, b: string): boolean {
  const left = canonicalRegion(a);
  return left !== '' && left === canonicalRegion(b);
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const clamp = (x: number, low: number, high: number): number => Math.min(high, Math.max(low, x));
const fixed = (x: number): string => x.toFixed(3);

/**
 * The earliest declared emergency wins (ties by id), so the choice does not depend on the order the caller lists
 * them in. An unparseable declaredAt sorts last.
 */
function earliest(emergencies: readonly ActiveEmergency[]): ActiveEmergency | undefined {
  const time = (e: ActiveEmergency): number => {
    const t = Date.parse(e.declaredAt);
    return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
  };
  const order = (a: ActiveEmergency, b: ActiveEmergency): number =>
    time(a) - time(b) || (a.emergencyId < b.emergencyId ? -1 : a.emergencyId > b.emergencyId ? 1 : 0);
  return [...emergencies].sort(order)[0];
}

/**
 * Confidence = 0.5 + 0.49 × margin × (0.5 + 0.5 × agreement) × evidence, clamped to [0.5, 0.99], where
 * - margin: how far the score is from the threshold, as a share of the room on that side (0 at the threshold,
 *   1 at 0 or 1), because a score near the line could easily have gone the other way;
 * - agreement: the total weight of signals whose own value is on the same side of the threshold as the score,
 *   because one strong signal outvoting the rest is a weaker call than all of them pointing the same way;
 * - evidence: min(1, words / 5), because a query of a word or two (or none) says too little to be sure of.
 * Emergency decisions are not scored this way: they are set by a declaration, so their confidence is 0.99.
 */
function scoreConfidence(complexity: number, threshold: number, signals: readonly TriageSignal[], words: number) {
  const council = complexity >= threshold;
  const margin = council ? (complexity - threshold) / (1 - threshold) : (threshold - complexity) / threshold;
  const agreement = signals.reduce((sum, s) => sum + ((s.value >= threshold) === council ? s.weight : 0), 0);
  const evidence = Math.min(1, words / 5);
  const confidence = round3(clamp(0.5 + 0.49 * margin * (0.5 + 0.5 * agreement) * evidence, 0.5, 0.99));
  const why = `confidence ${fixed(confidence)} = 0.5 + 0.49 × margin ${fixed(margin)} × (0.5 + 0.5 × agreement ${fixed(agreement)}) × evidence ${fixed(evidence)}`;
  return { confidence, why };
}

/** The fourth council role, if any: money questions need an economist; otherwise named places need local context. */
function extraCouncilRole(features: TextFeatures): { role: string; why: string } | null {
  if (features.costTerms.length > 0) return { role: 'economist', why: `it asks about money (${features.costTerms.slice(0, 5).join(', ')})` };
  if (features.namedEntities.length > 0) return { role: 'local_context', why: `it names ${features.namedEntities.slice(0, 5).join(', ')}` };
  return null;
}

export function triageQuery(input: TriageInput, options: TriageOptions = {}): TriageDecision {
  const threshold = options.councilThreshold ?? DEFAULT_COUNCIL_THRESHOLD;
  // A threshold of 0 or 1 would make one mode unreachable (and the confidence margin divide by zero): that is a
  // configuration mistake to surface, not a query to triage.
  if (!(threshold > 0 && threshold < 1)) throw new RangeError(`councilThreshold must be in (0, 1), got ${threshold}`);

  const features = extractFeatures(input.text);
  const signals = scoreSignals(features);
  const complexity = round3(clamp(signals.reduce((sum, s) => sum + s.contribution, 0), 0, 1));
  const breakdown = signals.map((s) => `${s.name} ${fixed(s.contribution)} (${s.detail}; weight ${s.weight})`).join(' + ');
  const scored = `Complexity ${fixed(complexity)} = ${breakdown}.`;

  const local = (options.emergencies ?? []).filter((e) => sameRegion(e.region, input.region));
  const emergency = EMERGENCY_PURPOSES.includes(input.purpose) ? earliest(local) : undefined;
  if (emergency !== undefined) {
    const roles = [...EMERGENCY_ROLES[emergency.kind]];
    return {
      mode: 'emergency', complexity, confidence: 0.99, roles, signals,
      rationale: `${scored} Emergency mode: ${emergency.kind} emergency ${emergency.emergencyId} (declared ${emergency.declaredAt}) ` +
        `is active in ${emergency.region}, which is the request's region ${input.region}, and purpose ${input.purpose} ` +
        `qualifies, so the ${emergency.kind} roles answer (${roles.join(', ')}) whatever the complexity; confidence 0.990 ` +
        'because the mode follows from a declaration, not from the score.',
      emergency: { emergencyId: emergency.emergencyId, region: emergency.region, kind: emergency.kind },
      rulesVersion: TRIAGE_RULES_VERSION,
    };
  }

  const { confidence, why } = scoreConfidence(complexity, threshold, signals, features.words);
  const considered = local.length > 0
    ? ` An active emergency (${local.map((e) => `${e.kind} ${e.emergencyId}`).join(', ')}) covers region ${input.region}, ` +
      `but purpose ${input.purpose} is not one of ${EMERGENCY_PURPOSES.join(', ')}, so it does not change the mode.`
    : '';

  if (complexity < threshold) {
    return {
      mode: 'express', complexity, confidence, roles: ['express'], signals,
      rationale: `${scored} Express: ${fixed(complexity)} is below the council threshold ${threshold}, so one role answers; ${why}.${considered}`,
      emergency: null, rulesVersion: TRIAGE_RULES_VERSION,
    };
  }
  const extra = extraCouncilRole(features);
  const roles = [...COUNCIL_CORE_ROLES, ...(extra === null ? [] : [extra.role])];
  const extraWhy = extra === null ? '' : `, plus ${extra.role} because ${extra.why}`;
  return {
    mode: 'council', complexity, confidence, roles, signals,
    rationale: `${scored} Council: ${fixed(complexity)} is at or above the council threshold ${threshold}, so ` +
      `${COUNCIL_CORE_ROLES.join(', ')} answer in parallel${extraWhy}; ${why}.${considered}`,
    emergency: null, rulesVersion: TRIAGE_RULES_VERSION,
  };
}

/** The signal names, in the order every decision lists them. */
export const TRIAGE_SIGNAL_NAMES: readonly string[] = SIGNAL_RULES.map((rule) => rule.name);
