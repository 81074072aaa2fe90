"""Routes of staying active (membership): weekly training, where a member stands, and the review (بازنگری)."""
from gateway.http import api, query_args
from gateway.roles import ADMIN, MEMBER, OFFICE, PROVINCE_OFFICE
from kit.rpc import RpcProxy
from services.membership import schemas as s


class ReviewRoutes:
    membership = RpcProxy("membership")

    # -- training (آموزش هفتگی)
    @api("POST", "/training/lessons", roles=(ADMIN,), status=201, body=s.LessonIn, answer=s.LessonOut,
         summary="Publish the lesson of a Jalali week (default: this week); one lesson per week (409).",
         tag="training")
    def publish_lesson(self, request):
        return self.membership.publish_lesson(request.actor, request.body)

    @api("GET", "/training/lessons", roles=(MEMBER, ADMIN, PROVINCE_OFFICE), answer=s.LessonList,
         query=s.LessonQuery, summary="Published lessons (members: up to this week's, with whether they read them).",
         tag="training")
    def list_lessons(self, request):
        return self.membership.list_lessons(request.actor, query_args(request))

    @api("GET", "/training/lessons/current", roles=(MEMBER, ADMIN, PROVINCE_OFFICE), answer=s.LessonOut,
         summary="This week's lesson (members: with whether they read it).", tag="training")
    def current_lesson(self, request):
        return self.membership.current_lesson(request.actor)

    @api("POST", "/training/lessons/<id>/read", roles=(MEMBER,), answer=s.LessonReadOut,
         summary="Record that the member read a lesson (idempotent).", tag="training")
    def read_lesson(self, request, id):
        return self.membership.read_lesson(request.actor, id)

    @api("GET", "/me/training", roles=(MEMBER,), answer=s.TrainingRecord, query=s.TrainingQuery,
         summary="The member's reading record, week by week, and the weeks missed.", tag="training")
    def my_training(self, request):
        return self.membership.training_record(request.actor, None, query_args(request))

    @api("GET", "/members/<id>/training", roles=OFFICE, answer=s.TrainingRecord, query=s.TrainingQuery,
         summary="A member's reading record, week by week.", tag="training")
    def member_training(self, request, id):
        return self.membership.training_record(request.actor, id, query_args(request))

    @api("GET", "/members/<id>/standing", roles=OFFICE, answer=s.Standing,
         summary="Where a member stands: account state, training, meetings and an open review.", tag="reviews")
    def member_standing(self, request, id):
        return self.membership.member_standing(request.actor, id)

    # -- the review (بازنگری)
    @api("GET", "/reviews", roles=OFFICE, answer=s.ReviewList, query=s.ReviewQuery,
         summary="Review cases of the province (admin: all), with their reasons; ?status=open|closed&reason=.",
         tag="reviews")
    def list_reviews(self, request):
        return self.membership.list_reviews(request.actor, query_args(request))

    @api("GET", "/reviews/<id>", roles=OFFICE, answer=s.ReviewOut, summary="One review case.", tag="reviews")
    def get_review(self, request, id):
        return self.membership.get_review(request.actor, id)

    @api("POST", "/reviews/<id>/decision", roles=OFFICE, body=s.DecisionIn, answer=s.ReviewOut,
         summary="Decide a review case: continue, suspend or deactivate; the case closes.", tag="reviews")
    def decide_review(self, request, id):
        return self.membership.decide_review(request.actor, id, request.body)

    @api("POST", "/members/<id>/breaches", roles=OFFICE, status=201, body=s.NoteIn, answer=s.OfficeRecordOut,
         summary="Record a breach of the rules (reason 3); the member is put up for review.", tag="reviews")
    def record_breach(self, request, id):
        return self.membership.record_breach(request.actor, id, request.body)

    @api("POST", "/members/<id>/discontinuity", roles=OFFICE, status=201, body=s.NoteIn, answer=s.OfficeRecordOut,
         summary="Record established discontinuity of service (reason 5); the member is put up for review.",
         tag="reviews")
    def record_discontinuity(self, request, id):
        return self.membership.record_discontinuity(request.actor, id, request.body)

    @api("POST", "/members/<id>/reinstate", roles=OFFICE, body=s.NoteIn, answer=s.StatusChangeOut,
         summary="Lift a member's suspension (or undo a deactivation).", tag="reviews")
    def reinstate_member(self, request, id):
        return self.membership.reinstate_member(request.actor, id, request.body)
