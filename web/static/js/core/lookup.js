// Reference data every screen shows by name: provinces, counties, fields of service. Asked once per page load.
import { cached } from './api.js';
import { setOptions } from './dom.js';
import { L, word } from './i18n.js';

export async function provinces() {
  return (await cached('/provinces')).items;
}

export async function counties(province) {
  if (!province) return [];
  return (await cached(`/provinces/${encodeURIComponent(province)}/counties`)).items;
}

export async function provinceName(code) {
  return (await provinces()).find((p) => p.code === code)?.name || code || '';
}

export async function countyName(province, code) {
  if (!code) return '';
  return (await counties(province)).find((c) => c.code === code)?.name || code;
}

export async function fields() {
  return (await cached('/fields')).items;
}

/**
 * Fill a province select, and its county select whenever the province changes. A draft wins; otherwise
 * ``initial`` ({province, county}) is shown; ``fixed`` pins the province (a provincial office's own).
 */
export async function bindProvinceCounty(form, { fixed = null, initial = null, names = ['province', 'county'] } = {}) {
  const [provinceField, countyField] = names;
  const provinceSelect = form.inputs[provinceField];
  const countySelect = form.inputs[countyField];
  const list = await provinces();
  setOptions(provinceSelect, list.map((p) => [p.code, p.name]), L('استان را انتخاب کنید', 'Choose the province'));
  form.restore(provinceField);
  if (fixed) {
    provinceSelect.value = fixed;
    provinceSelect.disabled = true;
  } else if (!provinceSelect.value && initial?.province) {
    provinceSelect.value = initial.province;
  }
  async function refill() {
    const items = await counties(provinceSelect.value);
    setOptions(countySelect, items.map((c) => [c.code, c.name]), L('شهرستان را انتخاب کنید', 'Choose the county'));
    form.restore(countyField);
    if (!countySelect.value && initial?.county && provinceSelect.value === (fixed || initial.province)) {
      countySelect.value = initial.county;
    }
  }
  provinceSelect.addEventListener('change', refill);
  await refill();
}

/** Options of the fields of service, labelled with their kind. */
export async function fieldOptions() {
  return (await fields()).map((f) => [f.id, `${f.name} (${word('kind', f.kind)})`]);
}
