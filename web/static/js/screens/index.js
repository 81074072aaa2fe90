// Every screen of the client. A screen module exports a list of {path, title, roles, render, about?, nav?};
// the menu shows a role's screens in the order of this list (see docs/web.md: how to add a screen).
import active from './active.js';
import centres from './centres.js';
import desk from './desk.js';
import member from './member.js';
import office from './office.js';
import pub from './public.js';
import shrine from './shrine.js';

export default [...member, ...office, ...active, ...centres, ...shrine, ...desk, ...pub];
