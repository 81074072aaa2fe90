"""Routes of catalog: fields and services, readiness, offers, their documents and their review."""
import base64

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from gateway.errors import BadRequest, PayloadTooLarge
from gateway.http import PREFIX, api, query_args
from gateway.roles import ADMIN, MEMBER, NEIGHBORHOOD_CENTER, OFFICE, PROVINCE_OFFICE, THEMATIC_CENTER
from kit.rpc import RpcProxy
from services.catalog import schemas as s
from services.catalog.schemas import MAX_DOCUMENT_BYTES

MULTIPART_SLACK = 64 * 1024  # room for the multipart envelope around a file of the maximum size


def _too_large():
    return PayloadTooLarge("payload_too_large", "حجم مدرک بیش از ۵ مگابایت است.", "The document exceeds 5 MiB.")


def _document_body(request):
    """The uploaded file: multipart/form-data (the ``file`` part, or the only one) or the raw body."""
    limit = MAX_DOCUMENT_BYTES + MULTIPART_SLACK
    if request.content_length is not None and request.content_length > limit:
        raise _too_large()
    request.max_content_length = limit
    try:
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("file") or next(iter(request.files.values()), None)
            if upload is None:
                raise BadRequest("document_missing", "فایلی با نام file فرستاده نشده است.",
                                 "No file part named 'file' was sent.")
            content, filename, ctype = upload.read(MAX_DOCUMENT_BYTES + 1), upload.filename, upload.mimetype
        else:
            content = request.get_data(cache=False)
            filename, ctype = request.headers.get("X-Filename"), request.mimetype
    except RequestEntityTooLarge:
        raise _too_large() from None
    if len(content) > MAX_DOCUMENT_BYTES:
        raise _too_large()
    if not content:
        raise BadRequest("document_missing", "فایل مدرک فرستاده نشده است.", "No document was sent.")
    return {"content": base64.b64encode(content).decode("ascii"), "filename": (filename or None) and filename[:200],
            "content_type": (ctype or None) and ctype[:120]}


class CatalogRoutes:
    catalog = RpcProxy("catalog")

    # -- fields and services
    @api("GET", "/fields", public=True, answer=s.FieldList, summary="Fields of service (عرصه) with their services.",
         tag="catalog")
    def list_fields(self, request):
        return self.catalog.list_fields()

    @api("POST", "/fields", roles=(ADMIN,), status=201, body=s.FieldIn, answer=s.Created,
         summary="Create a field: general, specialized or staff.", tag="catalog")
    def create_field(self, request):
        return self.catalog.create_field(request.actor, request.body)

    @api("POST", "/fields/<id>/services", roles=(ADMIN,), status=201, body=s.ServiceIn, answer=s.Created,
         summary="Add a service (خدمت) to a field.", tag="catalog")
    def create_service(self, request, id):
        return self.catalog.create_service(request.actor, id, request.body)

    @api("POST", "/members/<id>/staff-grant", roles=OFFICE, answer=s.StaffGrantOut,
         summary="Let a member of the province choose the staff field (عرصه ستادی).", tag="catalog")
    def grant_staff_field(self, request, id):
        return self.catalog.grant_staff_field(request.actor, id)

    # -- readiness
    @api("PUT", "/me/readiness", roles=(MEMBER,), body=s.ReadinessIn, answer=s.ReadinessOut,
         summary="Declare readiness (اعلام آمادگی): province, county and one field, locked for six months.",
         tag="catalog")
    def declare_readiness(self, request):
        return self.catalog.declare_readiness(request.actor, request.body)

    @api("GET", "/me/readiness", roles=(MEMBER,), answer=s.ReadinessOut, summary="The member's readiness.",
         tag="catalog")
    def my_readiness(self, request):
        return self.catalog.my_readiness(request.actor)

    # -- offers
    @api("POST", "/me/offers", roles=(MEMBER,), status=201, body=s.OfferIn, answer=s.Created,
         summary="Offer a service of the declared field (at most 2 at the same time).", tag="catalog")
    def create_offer(self, request):
        return self.catalog.create_offer(request.actor, request.body)

    @api("GET", "/me/offers", roles=(MEMBER,), answer=s.OfferList, query=s.OfferQuery,
         summary="The member's offers.", tag="catalog")
    def my_offers(self, request):
        return self.catalog.my_offers(request.actor, query_args(request))

    @api("POST", "/me/offers/<id>/withdraw", roles=(MEMBER,), answer=s.StatusOut,
         summary="Withdraw an offer (frees its place).", tag="catalog")
    def withdraw_offer(self, request, id):
        return self.catalog.withdraw_offer(request.actor, id)

    @api("POST", "/me/offers/<id>/complete", roles=(MEMBER,), answer=s.StatusOut,
         summary="Mark an approved offer completed (frees its place).", tag="catalog")
    def complete_offer(self, request, id):
        return self.catalog.complete_offer(request.actor, id)

    @api("GET", "/offers", roles=(THEMATIC_CENTER, NEIGHBORHOOD_CENTER, PROVINCE_OFFICE, ADMIN), answer=s.OfferList,
         query=s.OfferQuery,
         summary="Offers: a thematic centre's county and field; approved offers of a neighbourhood centre's county.",
         tag="catalog")
    def list_offers(self, request):
        return self.catalog.list_offers(request.actor, query_args(request))

    @api("GET", "/offers/<id>", roles=(MEMBER, THEMATIC_CENTER, NEIGHBORHOOD_CENTER, PROVINCE_OFFICE, ADMIN),
         answer=s.OfferOut, summary="One offer.", tag="catalog")
    def get_offer(self, request, id):
        return self.catalog.get_offer(request.actor, id)

    @api("POST", "/offers/<id>/approve", roles=(THEMATIC_CENTER,), answer=s.StatusOut,
         summary="Approve an offer (the county thematic centre of its field).", tag="catalog")
    def approve_offer(self, request, id):
        return self.catalog.approve_offer(request.actor, id)

    @api("POST", "/offers/<id>/reject", roles=(THEMATIC_CENTER,), body=s.ReasonIn, answer=s.StatusOut,
         summary="Reject an offer with a reason.", tag="catalog")
    def reject_offer(self, request, id):
        return self.catalog.reject_offer(request.actor, id, request.body)

    # -- documents
    @api("POST", PREFIX + "/offers/<id>/documents", raw=True, roles=(MEMBER,), status=201, answer=s.DocumentOut,
         max_body=MAX_DOCUMENT_BYTES + MULTIPART_SLACK,
         summary="Upload a document of a specialized offer: PDF, JPEG or PNG up to 5 MiB, as multipart/form-data "
                 "(part 'file') or as the raw body with its Content-Type.", tag="catalog")
    def upload_document(self, request, id):
        return self.catalog.upload_document(request.actor, id, _document_body(request))

    @api("GET", "/offers/<id>/documents", roles=(MEMBER, THEMATIC_CENTER, PROVINCE_OFFICE, ADMIN),
         answer=s.DocumentList, summary="The documents of an offer.", tag="catalog")
    def list_documents(self, request, id):
        return self.catalog.list_documents(request.actor, id)

    @api("GET", "/offers/<id>/documents/<document_id>", roles=(MEMBER, THEMATIC_CENTER, PROVINCE_OFFICE, ADMIN),
         summary="Download one document (never served to another province).", tag="catalog")
    def get_document(self, request, id, document_id):
        doc = self.catalog.get_document(request.actor, id, document_id)
        ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(doc["content_type"], "bin")
        return Response(base64.b64decode(doc["content"]), status=200, mimetype=doc["content_type"],
                        headers={"Content-Disposition": f'attachment; filename="{doc["id"]}.{ext}"',
                                 "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
