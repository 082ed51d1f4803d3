/**
 * "Climate-vulnerable" for the priority policy: membership of the V20, the Vulnerable Twenty Group of Ministers of
 * Finance of the Climate Vulnerable Forum. We use the V20 because it is a list the vulnerable countries keep for
 * themselves, not an outside index's ranking.
 *
 * The list below is the membership as written on V20_AS_OF: the 20 founding members (Lima, 8 October 2015), the 23
 * Climate Vulnerable Forum members admitted at COP21 (Paris, November 2015), and the 5 admitted at COP22
 * (Marrakech, 18 November 2016), 48 in all. Those admissions are documented in sources we could check (the World
 * Bank's 8 October 2015 launch feature and thecvf.org's 2016 Forum page). The V20 has since grown to 68–70
 * members (2024–2025, see V20_SOURCE); the later members are not listed here because we could not check each
 * one against that page, and a wrong member would be worse than a missing one. Almost all of them are Global South
 * anyway, so for them only the climate-vulnerable term is missing.
 *
 * The list lives in versioned policy data (priorityPolicy.ts): bringing it up to date is a new policy version with
 * a new id and hash, so an assignment always names the membership it was computed under.
 */
export const V20_SOURCE = 'https://www.v-20.org/members';
export const V20_AS_OF = '2016-11-18';

/** V20 members as [alpha-2, alpha-3], by the date they joined. */
export const V20_MEMBERS: readonly (readonly [string, string])[] = [
  // Founding members, Lima, 8 October 2015
  ['AF', 'AFG'], ['BD', 'BGD'], ['BB', 'BRB'], ['BT', 'BTN'], ['CR', 'CRI'], ['ET', 'ETH'], ['GH', 'GHA'], ['KE', 'KEN'],
  ['KI', 'KIR'], ['MG', 'MDG'], ['MV', 'MDV'], ['NP', 'NPL'], ['PH', 'PHL'], ['RW', 'RWA'], ['LC', 'LCA'], ['TZ', 'TZA'],
  ['TL', 'TLS'], ['TV', 'TUV'], ['VU', 'VUT'], ['VN', 'VNM'],
  // Admitted at COP21, Paris, November 2015
  ['BF', 'BFA'], ['KH', 'KHM'], ['KM', 'COM'], ['CD', 'COD'], ['DO', 'DOM'], ['FJ', 'FJI'], ['GD', 'GRD'], ['GT', 'GTM'],
  ['HT', 'HTI'], ['HN', 'HND'], ['MW', 'MWI'], ['MH', 'MHL'], ['MN', 'MNG'], ['MA', 'MAR'], ['NE', 'NER'], ['PW', 'PLW'],
  ['PG', 'PNG'], ['SN', 'SEN'], ['SS', 'SSD'], ['LK', 'LKA'], ['SD', 'SDN'], ['TN', 'TUN'], ['YE', 'YEM'],
  // Admitted at COP22, Marrakech, 18 November 2016
  ['GM', 'GMB'], ['CO', 'COL'], ['LB', 'LBN'], ['PS', 'PSE'], ['WS', 'WSM'],
];
