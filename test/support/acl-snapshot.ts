// The ground's clusters are shared by every test file, and Kafka's authorizer closes a resource to everyone else
// once an ACL names it: a test that adds ACLs (a metadata restore copies every ACL of the source) removes all it
// added, found by comparing with a snapshot taken before.
import {
  type Acl,
  AclOperations,
  AclPermissionTypes,
  type Admin,
  ResourcePatternTypes,
  ResourceTypes,
} from '@platformatic/kafka';

async function allAcls(admin: Admin): Promise<Acl[]> {
  const resources = await admin.describeAcls({
    filter: {
      resourceType: ResourceTypes.ANY,
      resourceName: null,
      resourcePatternType: ResourcePatternTypes.ANY,
      principal: null,
      host: null,
      operation: AclOperations.ANY,
      permissionType: AclPermissionTypes.ANY,
    },
  });
  return resources.flatMap((r) =>
    r.acls.map((a) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      resourcePatternType: r.resourcePatternType,
      ...a,
    })),
  );
}

const keyOf = (a: Acl) => JSON.stringify(a);

/** Call before the test adds ACLs; the returned function deletes every ACL that is there then and was not before. */
export async function aclSnapshot(admin: Admin): Promise<() => Promise<void>> {
  const before = new Set((await allAcls(admin)).map(keyOf));
  return async () => {
    const added = (await allAcls(admin)).filter((a) => !before.has(keyOf(a)));
    if (added.length > 0) await admin.deleteAcls({ filters: added });
  };
}
