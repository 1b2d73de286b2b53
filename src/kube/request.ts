// What a request was for, so a refusal can name the verb and the resource the user needs.
export interface RequestIntent {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
  resource: string; // plural, e.g. "nodes", "pods/log"
  group?: string; // "" for the core group
  namespace?: string;
  name?: string;
}

export function describeIntent(i: RequestIntent): string {
  const what = i.name ? `${i.resource} "${i.name}"` : i.resource;
  const where = i.namespace ? `in namespace "${i.namespace}"` : i.verb === 'list' || i.verb === 'watch' ? 'at the cluster scope' : '';
  return [i.verb, what, where].filter(Boolean).join(' ');
}
